"""URLs of a file's archiving and retention, included by ``core.urls`` (namespace ``core``)."""

from django.urls import path

from core.views import archiving

urlpatterns = [
    path(
        "beneficiaires/<file_number:file_number>/archiver/",
        archiving.beneficiary_archive,
        name="beneficiary_archive",
    ),
    path(
        "beneficiaires/<file_number:file_number>/conservation/",
        archiving.beneficiary_retention_hold,
        name="beneficiary_retention_hold",
    ),
]
