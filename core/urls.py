from django.urls import path, register_converter

from core.converters import FileNumberConverter
from core.views import agents, beneficiaries, relatives

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
    path("utilisateurs/", agents.agent_list, name="agent_list"),
    path("utilisateurs/inviter/", agents.agent_invite, name="agent_invite"),
    path("utilisateurs/<int:agent_id>/modifier/", agents.agent_edit, name="agent_edit"),
    path("mon-compte/", agents.my_account, name="my_account"),
]
