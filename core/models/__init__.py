from core.models.agents import Agent
from core.models.audit import AuditEvent
from core.models.beneficiaries import Beneficiary
from core.models.followup_types import FollowupType

__all__ = ["Agent", "AuditEvent", "Beneficiary", "FollowupType"]
