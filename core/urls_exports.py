"""URLs of the exports, included by ``core.urls`` (namespace ``core``)."""

from django.urls import path

from core.views import exports, subject_access

urlpatterns = [
    path("exports/beneficiaires/", exports.beneficiary_export_page, name="beneficiary_export"),
    path("exports/entretiens/", exports.followup_export_page, name="followup_export"),
    path("exports/demandes-d-aide/", exports.help_request_export_page, name="help_request_export"),
    path(
        "beneficiaires/<file_number:file_number>/exporter/",
        subject_access.file_export,
        name="file_export",
    ),
]
