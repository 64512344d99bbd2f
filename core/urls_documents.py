"""URLs of a file's documents, included by ``core.urls`` (namespace ``core``).

Documents are named by their numeric id under the file's URL. Ids are per structure, so the
same id on another structure's host names another document or none (404).
"""

from django.urls import path

from core.views import documents

_DOCUMENT = "beneficiaires/<file_number:file_number>/documents/<int:document_id>"

urlpatterns = [
    path(
        "beneficiaires/<file_number:file_number>/documents/ajouter/",
        documents.document_add,
        name="document_add",
    ),
    path(f"{_DOCUMENT}/telecharger/", documents.document_download, name="document_download"),
    path(f"{_DOCUMENT}/modifier/", documents.document_edit, name="document_edit"),
    path(f"{_DOCUMENT}/supprimer/", documents.document_delete, name="document_delete"),
]
