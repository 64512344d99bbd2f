"""JSON shapes of the API. Field names are the model's; choice values are codes; dates are ISO
8601; amounts are strings, so no amount goes through a binary float.

Reading serializers drop, per object, the fields the agent may not read (see ``core.api.views``).
Writing serializers check types; the rules are then checked by the web forms and the services.
"""

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import serializers

from core.enums import BeneficiaryStatus
from core.forms.accompaniments import FollowupForm, HelpRequestForm
from core.forms.beneficiaries import FULL_FIELDS, GENERAL_FIELDS
from core.models import Beneficiary, Document, Followup, FollowupType, HelpRequest, Relative

FOLLOWUP_DETAIL_FIELDS = [
    "medium",
    "third_person_name",
    "place",
    "followup_types",
    "prescribing_organisation",
    "due_date",
    "redirected",
    "help_request_started",
    "documents",
]
HELP_REQUEST_DETAIL_FIELDS = [
    "followup_type",
    "prescribing_organisation",
    "is_complete",
    "is_financial",
    "financial_reason",
    "instruction",
    "due_date",
    "documents",
]
# Shown in the interface only to roles allowed VIEW_HELP_REQUEST_PROTECTED.
HELP_REQUEST_PROTECTED_FIELDS = [
    "instructor_organisation",
    "requested_amount",
    "dispatch_date",
    "committee",
    "committee_date",
    "decision_date",
    "allocated_amount",
    "refusal_reason",
    "payment_method",
    "payment_date",
    "end_of_support_date",
]


def read_only(model: type[models.Model], fields: list[str]) -> dict[str, dict[str, bool]]:
    """Return ``extra_kwargs`` that make ``fields`` read-only.

    Optional choice fields keep ``allow_blank``, which DRF drops from read-only fields, so the
    schema accepts the empty string they hold when nothing was chosen.
    """
    kwargs = {}
    for name in fields:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        blank_choice = field is not None and bool(getattr(field, "choices", None)) and field.blank
        kwargs[name] = {"read_only": True, **({"allow_blank": True} if blank_choice else {})}
    return kwargs


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The JSON type the schema gives each kind of writing field, checked before DRF's own
# validation: DRF would otherwise turn 12 into "12" for a text, or "true" into True for a
# boolean, and accept a request that the schema declares invalid. Subclasses come first.
JSON_TYPES: list[tuple[type[serializers.Field], Any, str]] = [
    (serializers.BooleanField, lambda value: isinstance(value, bool), "un booléen (true ou false)"),
    (serializers.IntegerField, _is_integer, "un nombre entier"),
    (serializers.PrimaryKeyRelatedField, _is_integer, "un identifiant (nombre entier)"),
    (
        serializers.ManyRelatedField,
        lambda value: isinstance(value, list) and all(_is_integer(item) for item in value),
        "une liste d'identifiants (nombres entiers)",
    ),
    (
        serializers.ListField,
        lambda value: isinstance(value, list) and all(isinstance(item, str) for item in value),
        "une liste de textes",
    ),
    # Texts, choices, dates and amounts: amounts are strings so that no float rounds them.
    (serializers.Field, lambda value: isinstance(value, str), "un texte"),
]


class JsonTypesMixin:
    """Reject, field by field, a value whose JSON type is not the one the schema gives."""

    def to_internal_value(self, data: Any) -> Any:
        errors = {}
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            value = data.get(name) if isinstance(data, dict) else None
            if value is None or field.read_only:
                continue
            for field_class, accepts, expected in JSON_TYPES:
                if isinstance(field, field_class):
                    if not accepts(value):
                        errors[name] = [f"Type invalide : {expected} est attendu."]
                    break
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


SYNTHESIS_HELP = "Compte rendu partagé, selon le rôle."
PRIVATE_SYNTHESIS_HELP = (
    "Compte rendu privé : présent uniquement pour son auteur connecté par session, jamais "
    "pour un jeton."
)


class BeneficiarySerializer(serializers.ModelSerializer):
    # A plain string: an empty address is not a valid "email" format for the schema.
    email = serializers.CharField(read_only=True)
    social_security_number = serializers.CharField(
        read_only=True,
        help_text="Masqué : seul le premier caractère est visible. Absent sans le droit "
        "de voir le numéro.",
    )

    class Meta:
        model = Beneficiary
        fields = [
            "file_number",
            "referents",
            *GENERAL_FIELDS,
            *FULL_FIELDS,
            "version",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = read_only(model, fields)


class BeneficiaryWriteSerializer(JsonTypesMixin, serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=[c for c in BeneficiaryStatus.choices if c[0] != BeneficiaryStatus.ARCHIVED],
        required=False,
    )
    social_security_number = serializers.CharField(
        max_length=25, allow_blank=True, required=False, help_text="15 caractères, clé comprise."
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Version lue avant la modification : si le dossier a changé depuis, la "
        "requête est refusée (409).",
    )
    confirm_not_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Créer ou enregistrer même si des doublons probables existent.",
    )

    class Meta:
        model = Beneficiary
        fields = [
            "referents",
            *GENERAL_FIELDS,
            *FULL_FIELDS,
            "version",
            "confirm_not_duplicate",
        ]
        extra_kwargs = {"referents": {"required": False}}


class RelativeSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True)
    beneficiary = serializers.SlugRelatedField(slug_field="file_number", read_only=True)
    linked_beneficiary = serializers.SlugRelatedField(
        slug_field="file_number", read_only=True, allow_null=True
    )

    class Meta:
        model = Relative
        fields = [
            "id",
            "beneficiary",
            "relationship",
            "last_name",
            "first_name",
            "birth_date",
            "city",
            "email",
            "phone",
            "hosted",
            "caregiver",
            "is_contact",
            "additional_information",
            "linked_beneficiary",
            "created_at",
        ]
        extra_kwargs = read_only(model, fields)


class FollowupSerializer(serializers.ModelSerializer):
    beneficiary = serializers.SlugRelatedField(slug_field="file_number", read_only=True)
    synthesis = serializers.CharField(read_only=True, help_text=SYNTHESIS_HELP)
    private_synthesis = serializers.CharField(read_only=True, help_text=PRIVATE_SYNTHESIS_HELP)

    class Meta:
        model = Followup
        fields = [
            "id",
            "beneficiary",
            "created_by",
            "date",
            "status",
            *FOLLOWUP_DETAIL_FIELDS,
            "synthesis",
            "private_synthesis",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = read_only(model, fields)


class FollowupWriteSerializer(JsonTypesMixin, serializers.ModelSerializer):
    beneficiary = serializers.CharField(
        max_length=20, required=False, help_text="Numéro de dossier ; à la création seulement."
    )
    followup_types = serializers.PrimaryKeyRelatedField(
        many=True, queryset=FollowupType.objects.all(), required=False
    )

    class Meta:
        model = Followup
        # The web form's fields, so that the API accepts what the form checks.
        fields = ["beneficiary", *FollowupForm.Meta.fields]
        extra_kwargs = {
            "date": {"required": False},
            "medium": {"required": False},
            "private_synthesis": {"help_text": "Session de l'auteur uniquement."},
        }


class HelpRequestSerializer(serializers.ModelSerializer):
    beneficiary = serializers.SlugRelatedField(slug_field="file_number", read_only=True)
    synthesis = serializers.CharField(read_only=True, help_text=SYNTHESIS_HELP)
    private_synthesis = serializers.CharField(read_only=True, help_text=PRIVATE_SYNTHESIS_HELP)

    class Meta:
        model = HelpRequest
        fields = [
            "id",
            "beneficiary",
            "created_by",
            "opening_date",
            "status",
            *HELP_REQUEST_DETAIL_FIELDS,
            *HELP_REQUEST_PROTECTED_FIELDS,
            "synthesis",
            "private_synthesis",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = read_only(model, fields)


class HelpRequestWriteSerializer(JsonTypesMixin, serializers.ModelSerializer):
    beneficiary = serializers.CharField(
        max_length=20, required=False, help_text="Numéro de dossier ; à la création seulement."
    )
    followup_type = serializers.PrimaryKeyRelatedField(
        queryset=FollowupType.objects.all(), required=False
    )

    class Meta:
        model = HelpRequest
        # The web form's fields, so that the API accepts what the form checks.
        fields = ["beneficiary", *HelpRequestForm.Meta.fields]
        extra_kwargs = {
            "opening_date": {"required": False},
            "private_synthesis": {"help_text": "Session de l'auteur uniquement."},
        }


class DocumentSerializer(serializers.ModelSerializer):
    beneficiary = serializers.SlugRelatedField(slug_field="file_number", read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "beneficiary",
            "kind",
            "themes",
            "is_confidential",
            "name",
            "content_type",
            "size",
            "created_by",
            "created_at",
        ]
        extra_kwargs = read_only(model, fields)


class FollowupTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowupType
        fields = ["id", "name", "kind", "is_proposed"]
        extra_kwargs = read_only(model, fields)
