from django.urls import include, path, register_converter

from core.converters import FileNumberConverter
from core.views import (
    accompaniments,
    agents,
    api_tokens,
    beneficiaries,
    dashboard,
    lists,
    notifications,
    relatives,
    structure,
)

register_converter(FileNumberConverter, "file_number")

app_name = "core"

urlpatterns = [
    path("", agents.home, name="home"),
    path("beneficiaires/", beneficiaries.beneficiary_list, name="beneficiary_list"),
    path("beneficiaires/nouveau/", beneficiaries.beneficiary_create, name="beneficiary_create"),
    path(
        "beneficiaires/<file_number:file_number>/",
        beneficiaries.beneficiary_detail,
        name="beneficiary_detail",
    ),
    path(
        "beneficiaires/<file_number:file_number>/modifier/",
        beneficiaries.beneficiary_edit,
        name="beneficiary_edit",
    ),
    path(
        "beneficiaires/<file_number:file_number>/numero-securite-sociale/",
        beneficiaries.beneficiary_reveal_nir,
        name="beneficiary_reveal_nir",
    ),
    path(
        "beneficiaires/<file_number:file_number>/entourage/ajouter/",
        relatives.relative_edit,
        name="relative_add",
    ),
    path(
        "beneficiaires/<file_number:file_number>/entourage/<int:relative_id>/modifier/",
        relatives.relative_edit,
        name="relative_edit",
    ),
    path(
        "beneficiaires/<file_number:file_number>/entourage/<int:relative_id>/retirer/",
        relatives.relative_delete,
        name="relative_delete",
    ),
    path("tableau-de-bord/", dashboard.dashboard, name="dashboard"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path(
        "notifications/tout-marquer-comme-lu/",
        notifications.notification_mark_all_read,
        name="notification_mark_all_read",
    ),
    path(
        "notifications/<int:notification_id>/lue/",
        notifications.notification_mark_read,
        name="notification_mark_read",
    ),
    path("structure/", structure.structure_settings, name="structure_settings"),
    path("structure/accompagnements/", structure.catalogue_update, name="catalogue_update"),
    path("structure/acces-api/", api_tokens.api_token_list, name="api_token_list"),
    path(
        "structure/acces-api/<int:token_id>/revoquer/",
        api_tokens.api_token_revoke,
        name="api_token_revoke",
    ),
    path("accompagnements/", lists.accompaniment_list, name="accompaniment_list"),
    path(
        "accompagnements/entretiens/nouveau/",
        accompaniments.followup_create,
        name="followup_create",
    ),
    path(
        "accompagnements/entretiens/<int:item_id>/modifier/",
        accompaniments.followup_edit,
        name="followup_edit",
    ),
    path(
        "accompagnements/entretiens/<int:item_id>/supprimer/",
        accompaniments.followup_delete,
        name="followup_delete",
    ),
    path(
        "accompagnements/entretiens/<int:item_id>/commentaires/",
        accompaniments.followup_comment,
        name="followup_comment",
    ),
    path(
        "accompagnements/demandes-d-aide/nouvelle/",
        accompaniments.help_request_create,
        name="help_request_create",
    ),
    path(
        "accompagnements/demandes-d-aide/<int:item_id>/modifier/",
        accompaniments.help_request_edit,
        name="help_request_edit",
    ),
    path(
        "accompagnements/demandes-d-aide/<int:item_id>/supprimer/",
        accompaniments.help_request_delete,
        name="help_request_delete",
    ),
    path(
        "accompagnements/demandes-d-aide/<int:item_id>/commentaires/",
        accompaniments.help_request_comment,
        name="help_request_comment",
    ),
    path("utilisateurs/", agents.agent_list, name="agent_list"),
    path("utilisateurs/inviter/", agents.agent_invite, name="agent_invite"),
    path("utilisateurs/<int:agent_id>/modifier/", agents.agent_edit, name="agent_edit"),
    path("mon-compte/", agents.my_account, name="my_account"),
    path("", include("core.urls_committees")),
    path("", include("core.urls_documents")),
    path("", include("core.urls_exports")),
    path("", include("core.urls_statistics")),
    path("", include("core.urls_archiving")),
]
