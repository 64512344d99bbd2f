"""The role matrix: which role may do what, and on which files.

Every view, form, template and API endpoint asks ``can(agent, action)`` or
``scope(agent, action)``; nothing else decides permissions. Scopes:

- ``ALL``: every item of the structure;
- ``REFERENT``: only files the agent is referent of (and the items on them);
- ``AUTHOR``: only items the agent created;
- absent: refused.
"""

from enum import Enum

from core.enums import Role


class Scope(Enum):
    ALL = "all"
    REFERENT = "referent"
    AUTHOR = "author"


class Action(Enum):
    MANAGE_AGENTS = "manage_agents"
    VIEW_STRUCTURE = "view_structure"
    EDIT_STRUCTURE = "edit_structure"
    LIST_BENEFICIARIES = "list_beneficiaries"
    CREATE_BENEFICIARY = "create_beneficiary"
    CREATE_BENEFICIARY_FULL = "create_beneficiary_full"
    VIEW_GENERAL_INFO = "view_general_info"
    EDIT_GENERAL_INFO = "edit_general_info"
    VIEW_FULL_INFO = "view_full_info"
    EDIT_FULL_INFO = "edit_full_info"
    CHANGE_REFERENTS = "change_referents"
    ARCHIVE_BENEFICIARY = "archive_beneficiary"
    EXPORT_BENEFICIARIES = "export_beneficiaries"
    EXPORT_FILE = "export_file"
    EXPORT_FILE_PRIVATE_SYNTHESES = "export_file_private_syntheses"
    VIEW_DOCUMENTS = "view_documents"
    ADD_DOCUMENT = "add_document"
    DELETE_DOCUMENT = "delete_document"
    CREATE_FOLLOWUP = "create_followup"
    LIST_FOLLOWUPS = "list_followups"
    COMMENT_FOLLOWUP = "comment_followup"
    VIEW_FOLLOWUP = "view_followup"
    VIEW_FOLLOWUP_SYNTHESIS = "view_followup_synthesis"
    VIEW_FOLLOWUP_PRIVATE_SYNTHESIS = "view_followup_private_synthesis"
    EDIT_FOLLOWUP = "edit_followup"
    DELETE_FOLLOWUP = "delete_followup"
    CREATE_HELP_REQUEST = "create_help_request"
    LIST_HELP_REQUESTS = "list_help_requests"
    COMMENT_HELP_REQUEST = "comment_help_request"
    VIEW_HELP_REQUEST_PROTECTED = "view_help_request_protected"
    VIEW_HELP_REQUEST_SYNTHESIS = "view_help_request_synthesis"
    VIEW_HELP_REQUEST_PRIVATE_SYNTHESIS = "view_help_request_private_synthesis"
    LIST_HELP_REQUEST_COMMENTS = "list_help_request_comments"
    EDIT_HELP_REQUEST = "edit_help_request"
    DELETE_HELP_REQUEST = "delete_help_request"
    VIEW_ACCOMPANIMENTS = "view_accompaniments"
    EXPORT_ACCOMPANIMENTS = "export_accompaniments"
    VIEW_STATISTICS = "view_statistics"
    EXPORT_STATISTICS = "export_statistics"
    VIEW_NIR = "view_nir"
    VIEW_CONSULTATIONS = "view_consultations"
    MANAGE_COMMITTEES = "manage_committees"
    MANAGE_API_TOKENS = "manage_api_tokens"
    HOLD_RETENTION = "hold_retention"


M, SW, INS, RA, REF = (
    Role.MANAGER,
    Role.SOCIAL_WORKER,
    Role.INSTRUCTOR,
    Role.RECEPTION_AGENT,
    Role.REFERENT,
)
A, R, C = Scope.ALL, Scope.REFERENT, Scope.AUTHOR

# Columns: manager, social worker, instructor, reception agent, referent. ``None`` is refused.
# Differences from the reference product, on purpose: the author of an item always reads its
# private synthesis (a referent's own aid request included), and a reception agent reads the
# shared synthesis of what they wrote.
_MATRIX: dict[Action, tuple[Scope | None, ...]] = {
    Action.MANAGE_AGENTS: (A, None, None, None, None),
    Action.VIEW_STRUCTURE: (A, A, A, A, A),
    Action.EDIT_STRUCTURE: (A, None, None, None, None),
    Action.LIST_BENEFICIARIES: (A, A, A, A, R),
    Action.CREATE_BENEFICIARY: (A, A, A, A, A),
    Action.CREATE_BENEFICIARY_FULL: (A, A, A, None, A),
    Action.VIEW_GENERAL_INFO: (A, A, A, A, R),
    Action.EDIT_GENERAL_INFO: (A, A, A, A, R),
    Action.VIEW_FULL_INFO: (A, A, A, None, R),
    Action.EDIT_FULL_INFO: (A, A, A, None, R),
    Action.CHANGE_REFERENTS: (A, A, A, None, R),
    Action.ARCHIVE_BENEFICIARY: (A, A, None, None, None),
    Action.EXPORT_BENEFICIARIES: (A, None, None, None, None),
    # The right-of-access export of one file (GDPR article 15) contains the whole file, shared
    # syntheses and consultation log included, whatever the exporting role reads on screen,
    # because the response to the person must be complete. So only roles that read the full
    # file get it.
    Action.EXPORT_FILE: (A, A, A, None, R),
    # Adding the private syntheses, which on screen only their author reads.
    Action.EXPORT_FILE_PRIVATE_SYNTHESES: (A, None, None, None, None),
    Action.VIEW_DOCUMENTS: (A, A, A, A, R),
    Action.ADD_DOCUMENT: (A, A, A, A, R),
    Action.DELETE_DOCUMENT: (A, A, None, None, R),
    Action.CREATE_FOLLOWUP: (A, A, A, A, R),
    Action.LIST_FOLLOWUPS: (A, A, A, A, R),
    Action.COMMENT_FOLLOWUP: (A, A, A, A, R),
    Action.VIEW_FOLLOWUP: (A, A, A, C, R),
    Action.VIEW_FOLLOWUP_SYNTHESIS: (A, A, C, C, R),
    Action.VIEW_FOLLOWUP_PRIVATE_SYNTHESIS: (C, C, C, C, C),
    Action.EDIT_FOLLOWUP: (A, C, C, C, C),
    Action.DELETE_FOLLOWUP: (A, C, C, None, R),
    Action.CREATE_HELP_REQUEST: (A, A, A, None, R),
    Action.LIST_HELP_REQUESTS: (A, A, A, A, R),
    Action.COMMENT_HELP_REQUEST: (A, A, A, A, R),
    Action.VIEW_HELP_REQUEST_PROTECTED: (A, A, A, None, A),
    Action.VIEW_HELP_REQUEST_SYNTHESIS: (A, A, C, None, R),
    Action.VIEW_HELP_REQUEST_PRIVATE_SYNTHESIS: (C, C, C, C, C),
    Action.LIST_HELP_REQUEST_COMMENTS: (A, A, A, None, R),
    Action.EDIT_HELP_REQUEST: (A, C, C, None, R),
    Action.DELETE_HELP_REQUEST: (A, A, C, None, R),
    Action.VIEW_ACCOMPANIMENTS: (A, A, A, A, A),
    Action.EXPORT_ACCOMPANIMENTS: (A, A, A, None, A),
    Action.VIEW_STATISTICS: (A, A, A, None, A),
    Action.EXPORT_STATISTICS: (A, A, None, None, None),
    Action.VIEW_NIR: (A, A, A, None, R),
    Action.VIEW_CONSULTATIONS: (A, None, None, None, None),
    Action.MANAGE_COMMITTEES: (A, A, A, None, None),
    Action.MANAGE_API_TOKENS: (A, None, None, None, None),
    # Recording a "conservation justifiée" keeps a file past its retention limit. The agents who
    # follow the file are warned before that limit, so those who change its referents may.
    Action.HOLD_RETENTION: (A, A, A, None, R),
}
_ROLE_COLUMNS = (M, SW, INS, RA, REF)

MATRIX: dict[Action, dict[Role, Scope]] = {
    action: {role: scope for role, scope in zip(_ROLE_COLUMNS, row, strict=True) if scope}
    for action, row in _MATRIX.items()
}


def scope(agent: object, action: Action) -> Scope | None:
    """Return how far ``agent`` may perform ``action``, or None when refused.

    Inactive agents and anything that is not an agent of this structure get None.
    """
    role = getattr(agent, "role", None)
    if not getattr(agent, "is_active", False) or role is None:
        return None
    return MATRIX[action].get(Role(role))


def can(agent: object, action: Action) -> bool:
    """Return whether ``agent`` may perform ``action`` on at least some items."""
    return scope(agent, action) is not None
