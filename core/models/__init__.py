from core.models.agents import Agent
from core.models.audit import AuditEvent
from core.models.beneficiaries import Beneficiary
from core.models.consultations import Consultation
from core.models.followup_types import FollowupType
from core.models.relatives import Relative

__all__ = ["Agent", "AuditEvent", "Beneficiary", "Consultation", "FollowupType", "Relative"]
