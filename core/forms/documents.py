from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import lazy
from dsfr.forms import DsfrBaseForm

from core.enums import DocumentTheme, DocumentType
from core.services.documents import (
    ACCEPT_ATTRIBUTE,
    ACCEPTED_FORMATS_TEXT,
    EMPTY_MESSAGE,
    check_upload,
)

CONFIDENTIAL_HELP = (
    "Un document confidentiel n'est visible que par vous et par les agents qui ont accès à "
    "tous les dossiers (responsable de structure, travailleur social, instructeur)."
)


class FileUploadInput(forms.FileInput):
    """File input shown in a DSFR upload group (the DSFR field template reads
    ``group_class``)."""

    group_class = "fr-upload-group"


class DocumentDetailsForm(DsfrBaseForm):
    """Form for the type, themes and confidentiality of a document, when adding or changing
    it."""

    kind = forms.ChoiceField(
        label="Type de document",
        choices=[("", "Choisissez un type")] + list(DocumentType.choices),
        error_messages={"required": "Choisissez le type de document."},
    )
    themes = forms.MultipleChoiceField(
        label="Thèmes",
        choices=DocumentTheme.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    is_confidential = forms.BooleanField(
        label="Confidentiel",
        required=False,
        widget=forms.CheckboxInput,
        help_text=CONFIDENTIAL_HELP,
    )


def _file_help_text() -> str:
    return (
        f"Taille maximale : {settings.DOCUMENT_MAX_SIZE_MB} Mo. "
        f"Formats acceptés : {ACCEPTED_FORMATS_TEXT}."
    )


class DocumentUploadForm(DocumentDetailsForm):
    file = forms.FileField(
        label="Fichier",
        # Read when the form is shown, so that it follows the setting.
        help_text=lazy(_file_help_text, str)(),
        widget=FileUploadInput(attrs={"class": "fr-upload", "accept": ACCEPT_ATTRIBUTE}),
        error_messages={
            "required": "Choisissez le fichier à ajouter.",
            "empty": EMPTY_MESSAGE,
        },
    )

    def clean_file(self) -> UploadedFile:
        uploaded_file = self.cleaned_data["file"]
        check_upload(uploaded_file)
        return uploaded_file
