from core.models.accompaniments import Followup, HelpRequest
from core.models.agents import Agent
from core.models.api_tokens import ApiToken, ApiTokenAgent
from core.models.audit import AuditEvent
from core.models.beneficiaries import Beneficiary
from core.models.comments import Comment
from core.models.committees import Committee
from core.models.consultations import Consultation
from core.models.documents import Document
from core.models.followup_types import FollowupType
from core.models.notifications import Notification
from core.models.relatives import Relative
from core.models.retention import RetentionPolicy

__all__ = [
    "Agent",
    "ApiToken",
    "ApiTokenAgent",
    "AuditEvent",
    "Beneficiary",
    "Comment",
    "Committee",
    "Consultation",
    "Document",
    "Followup",
    "FollowupType",
    "HelpRequest",
    "Notification",
    "Relative",
    "RetentionPolicy",
]
