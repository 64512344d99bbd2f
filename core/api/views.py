"""Endpoints of the structure's API.

Each endpoint reads ``core.access`` for what the agent may reach and ``core.roles`` for what
they may do, as the web pages do; a forbidden action and a missing object both return 404.
Writes go through the web forms' checks and the services, so the rules and the audit trail
are those of the interface.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import (
    allows,
    beneficiaries_for,
    get_beneficiary_for,
    get_followup_for,
    get_help_request_for,
    scoped_items,
)
from core.api import serializers as s
from core.api.authentication import BearerTokenAuthentication, CsrfSessionAuthentication
from core.api.forms import form_data, instance_values
from core.api.pagination import ApiPagination
from core.api.parsers import FrenchJSONParser
from core.api.permissions import IsStructureAgent
from core.api.query import Filter, ListQuery
from core.duplicates import find_probable_duplicates
from core.enums import BeneficiaryStatus, DocumentType, FollowupStatus, HelpRequestStatus
from core.forms.accompaniments import FollowupForm, HelpRequestForm
from core.forms.beneficiaries import FULL_FIELDS, BeneficiaryForm
from core.models import (
    Agent,
    ApiTokenAgent,
    Beneficiary,
    Document,
    Followup,
    FollowupType,
    HelpRequest,
)
from core.nir import mask_nir
from core.roles import Action, Scope, can, scope
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import (
    AlreadyArchived,
    ConcurrentUpdate,
    create_beneficiary,
    update_beneficiary,
)
from core.services.documents import reads_all_confidential
from core.text import normalize

# Error bodies are JSON objects: "detail" contains a message for the whole request, and any other
# key is the name of the field or parameter its messages are about.
ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Paramètre ou donnée invalide."),
    401: OpenApiResponse(OpenApiTypes.OBJECT, description="Jeton absent, invalide ou révoqué."),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="Introuvable ou non autorisé."),
}
WRITE_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(
        OpenApiTypes.OBJECT, description="Écriture par session sans jeton CSRF valide."
    ),
    409: OpenApiResponse(
        OpenApiTypes.OBJECT, description="Dossier archivé ou modifié entre-temps."
    ),
    415: OpenApiResponse(
        OpenApiTypes.OBJECT, description="Corps envoyé sous un autre type que application/json."
    ),
}

ID_PATTERN = "[0-9]{1,18}"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "La ressource a changé ou ne peut plus être modifiée."
    default_code = "conflict"


@csrf_exempt
def unknown_address(request: HttpRequest, path: str) -> JsonResponse:
    """Return 404 in JSON for an address under /api/ that no endpoint serves.

    Without it, such a request would get the site's HTML page for 404.
    """
    return JsonResponse(
        {
            "detail": f"Adresse inconnue de l'API : « {request.path} ». Les adresses se "
            "terminent par « / » et leurs identifiants sont des nombres ou des numéros de "
            "dossier ; la liste est sur la page /api/docs/."
        },
        status=404,
    )


def via_token(request: Request) -> bool:
    return isinstance(request.user, ApiTokenAgent)


def file_allows(agent: Agent, action: Action, beneficiary: Beneficiary) -> bool:
    """Return whether ``agent`` may perform ``action`` on the file itself.

    Reads the referents prefetched on ``beneficiary``.
    """
    reach = scope(agent, action)
    if reach is Scope.ALL:
        return True
    if reach is Scope.REFERENT:
        return any(referent.pk == agent.pk for referent in beneficiary.referents.all())
    return False


def cache_referents(items: list[Any]) -> None:
    """Give each item's file the referent ids ``core.access.allows`` reads, from the prefetch."""
    for item in items:
        beneficiary = item.beneficiary
        beneficiary.referent_ids = {agent.pk for agent in beneficiary.referents.all()}


def check_body(request: Request, writable: set[str]) -> dict[str, Any]:
    """Return the JSON object of the request; reject any field this agent may not write."""
    if not isinstance(request.data, dict) or isinstance(request.data, MultiValueDict):
        raise ValidationError({"detail": "Le corps de la requête doit être un objet JSON."})
    refused = sorted(set(request.data) - writable)
    if refused:
        raise ValidationError(
            {
                name: "Champ inconnu, en lecture seule ou non modifiable avec ce rôle."
                for name in refused
            }
        )
    return dict(request.data)


def form_errors(form: Any) -> ValidationError:
    return ValidationError(
        {
            (name if name != "__all__" else "detail"): [str(message) for message in messages]
            for name, messages in form.errors.items()
        }
    )


def service_errors(error: DjangoValidationError) -> ValidationError:
    return ValidationError(
        {
            (name if name != "__all__" else "detail"): list(messages)
            for name, messages in error.message_dict.items()
        }
    )


def _conflict_message(expected_version: int | None, current: Beneficiary) -> str:
    if current.status == BeneficiaryStatus.ARCHIVED:
        return "Ce dossier a été archivé entre-temps : il ne peut plus être modifié."
    if expected_version is None:
        return (
            "Le dossier a été modifié entre-temps : relisez-le (version "
            f"{current.version}) avant de le modifier."
        )
    return (
        f"Le dossier a été modifié depuis la version indiquée ({expected_version}) : relisez-le "
        f"(version {current.version}) avant de le modifier."
    )


class ApiViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    authentication_classes = [BearerTokenAuthentication, CsrfSessionAuthentication]
    permission_classes = [IsStructureAgent]
    pagination_class = ApiPagination
    # JSON only: no browsable API. Session writes still pass DRF's CSRF check.
    renderer_classes = [JSONRenderer]
    parser_classes = [FrenchJSONParser]

    def paginated(self, queryset: QuerySet, serializer_class: type) -> Response:  # type: ignore[type-arg]
        page = self.paginate_queryset(queryset)
        if page and hasattr(page[0], "beneficiary"):
            cache_referents(page)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def output(self, instance: Any, serializer_class: type, code: int = 200) -> Response:
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=code)


# Beneficiaries -------------------------------------------------------------------------------


class BeneficiaryOutput(s.BeneficiarySerializer):
    def to_representation(self, instance: Beneficiary) -> dict[str, Any]:
        data = super().to_representation(instance)
        agent = self.context["request"].user
        if not file_allows(agent, Action.VIEW_FULL_INFO, instance):
            for name in FULL_FIELDS:
                data.pop(name, None)
        elif file_allows(agent, Action.VIEW_NIR, instance):
            data["social_security_number"] = mask_nir(instance.social_security_number)
        else:
            data.pop("social_security_number", None)
        return data


BENEFICIARY_QUERY = ListQuery(
    filters=(
        Filter(
            "status",
            "status",
            "Statut du dossier.",
            kind="choice",
            choices=tuple(BeneficiaryStatus.values),
        ),
        Filter(
            "search",
            "search_text__contains",
            "Nom, prénom, numéro de dossier ou téléphone ; accents et casse ignorés.",
            prepare=normalize,
        ),
        Filter(
            "updated_after",
            "updated_at__gte",
            "Dossiers modifiés à partir de cette date et heure (ISO 8601).",
            kind="datetime",
        ),
    ),
    orderings={
        "id": (),
        "file_number": ("file_number",),
        "usual_name": ("usual_name", "first_names"),
        "created_at": ("created_at",),
        "updated_at": ("updated_at",),
    },
    default_ordering="id",
)


class BeneficiaryViewSet(ApiViewSet):
    lookup_field = "file_number"
    lookup_value_regex = "[A-Za-z0-9]{1,20}"
    serializer_class = BeneficiaryOutput
    queryset = Beneficiary.objects.none()

    @extend_schema(
        summary="Lister les dossiers",
        parameters=BENEFICIARY_QUERY.parameters(),
        responses={200: BeneficiaryOutput(many=True), **ERRORS},
    )
    def list(self, request: Request) -> Response:
        files = beneficiaries_for(request.user, Action.LIST_BENEFICIARIES)
        files = BENEFICIARY_QUERY.apply(request, files).prefetch_related("referents")
        return self.paginated(files, BeneficiaryOutput)

    @extend_schema(summary="Lire un dossier", responses={200: BeneficiaryOutput, **ERRORS})
    def retrieve(self, request: Request, file_number: str) -> Response:
        beneficiary = get_beneficiary_for(request.user, file_number, Action.VIEW_GENERAL_INFO)
        return self.output(beneficiary, BeneficiaryOutput)

    @extend_schema(
        summary="Créer un dossier",
        request=s.BeneficiaryWriteSerializer,
        responses={201: BeneficiaryOutput, **WRITE_ERRORS},
    )
    def create(self, request: Request) -> Response:
        agent = request.user
        if not can(agent, Action.CREATE_BENEFICIARY):
            raise Http404("Page introuvable.")
        full = can(agent, Action.CREATE_BENEFICIARY_FULL)
        values = self._validated(request, full, instance=None)
        form = self._form(agent, values, full, instance=None)
        self._check_duplicates(agent, form, values, exclude_id=None)
        beneficiary = create_beneficiary(
            agent, form.model_values(), form.cleaned_data.get("referents", [])
        )
        beneficiary = Beneficiary.objects.prefetch_related("referents").get(pk=beneficiary.pk)
        return self.output(beneficiary, BeneficiaryOutput, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Modifier un dossier",
        request=s.BeneficiaryWriteSerializer,
        responses={200: BeneficiaryOutput, **WRITE_ERRORS},
    )
    def partial_update(self, request: Request, file_number: str) -> Response:
        agent = request.user
        beneficiary = get_beneficiary_for(agent, file_number, Action.EDIT_GENERAL_INFO)
        if beneficiary.status == BeneficiaryStatus.ARCHIVED:
            raise Conflict("Ce dossier est archivé : il ne peut plus être modifié.")
        full = file_allows(agent, Action.EDIT_FULL_INFO, beneficiary)
        values = self._validated(request, full, instance=beneficiary)
        form = self._form(agent, values, full, instance=beneficiary)
        self._check_duplicates(agent, form, values, exclude_id=beneficiary.pk)
        try:
            update_beneficiary(
                agent,
                beneficiary,
                form.model_values(),
                form.cleaned_data["referents"] if "referents" in form.fields else None,
                expected_version=values.get("version"),
            )
        except ConcurrentUpdate as error:
            raise Conflict(_conflict_message(values.get("version"), error.current)) from None
        beneficiary = Beneficiary.objects.prefetch_related("referents").get(pk=beneficiary.pk)
        return self.output(beneficiary, BeneficiaryOutput)

    @extend_schema(
        summary="Lister l'entourage d'un dossier",
        parameters=[],
        responses={200: s.RelativeSerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def relatives(self, request: Request, file_number: str) -> Response:
        RELATIVE_QUERY.apply(request, Beneficiary.objects.none())
        beneficiary = get_beneficiary_for(request.user, file_number, Action.VIEW_GENERAL_INFO)
        relatives = beneficiary.relatives.select_related("beneficiary", "linked_beneficiary")
        return self.paginated(relatives.order_by("id"), s.RelativeSerializer)

    def _validated(self, request: Request, full: bool, instance: Beneficiary | None) -> Any:
        writable = set(s.BeneficiaryWriteSerializer.Meta.fields)
        if not full:
            writable -= set(FULL_FIELDS)
        if scope(request.user, Action.CHANGE_REFERENTS) is None:
            writable.discard("referents")
        data = check_body(request, writable)
        serializer = s.BeneficiaryWriteSerializer(instance, data=data, partial=True)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _form(
        self, agent: Agent, values: dict[str, Any], full: bool, instance: Beneficiary | None
    ) -> BeneficiaryForm:
        referents_scope = scope(agent, Action.CHANGE_REFERENTS)
        names = [name for name in BeneficiaryForm.Meta.fields if full or name not in FULL_FIELDS]
        if referents_scope is not None:
            names.append("referents")
        current = instance_values(instance or Beneficiary(), names)
        if instance is None and referents_scope is not None:
            # As on the creation page, the agent who creates the file follows it by default.
            current["referents"] = [agent]
        merged = {**current, **values, "confirm_not_duplicate": True}
        merged.pop("version", None)
        form = BeneficiaryForm(
            form_data(merged),
            instance=instance,
            can_change_referents=referents_scope is not None,
            full_info=full,
            required_referent=agent if referents_scope is Scope.REFERENT else None,
        )
        if not form.is_valid():
            raise form_errors(form)
        return form

    def _check_duplicates(
        self, agent: Agent, form: BeneficiaryForm, values: dict[str, Any], exclude_id: int | None
    ) -> None:
        if values.get("confirm_not_duplicate"):
            return
        data = form.cleaned_data
        duplicates = find_probable_duplicates(
            beneficiaries_for(agent, Action.LIST_BENEFICIARIES),
            first_names=data.get("first_names", ""),
            usual_name=data.get("usual_name", ""),
            birth_name=data.get("birth_name", ""),
            birth_date=data.get("birth_date"),
            phones=[data.get("phone_1", ""), data.get("phone_2", "")],
            exclude_id=exclude_id,
        )
        if duplicates:
            numbers = ", ".join(d.beneficiary.file_number for d in duplicates)
            raise ValidationError(
                {
                    "confirm_not_duplicate": (
                        f"Doublons probables : {numbers}. Vérifiez qu'il s'agit d'une autre "
                        "personne, puis renvoyez la requête avec confirm_not_duplicate à true."
                    )
                }
            )


RELATIVE_QUERY = ListQuery(filters=(), orderings={"id": ()}, default_ordering="id")


# Interviews and aid requests -------------------------------------------------------------------


def _beneficiary_filter() -> Filter:
    return Filter(
        "beneficiary",
        "beneficiary__file_number",
        "Numéro de dossier.",
        prepare=lambda value: value.upper(),
    )


class AccompanimentOutput:
    """Drop what the agent may not read of an interview or an aid request, as the
    file's history does."""

    details_action: Action
    synthesis_action: Action
    detail_fields: list[str]

    def hide(self, item: Any, data: dict[str, Any]) -> dict[str, Any]:
        request = self.context["request"]  # type: ignore[attr-defined]
        agent = request.user
        is_author = item.created_by_id == agent.pk
        if not (is_author or allows(agent, self.details_action, item)):
            for name in self.detail_fields:
                data.pop(name, None)
            data.pop("synthesis", None)
        elif not (is_author or allows(agent, self.synthesis_action, item)):
            data.pop("synthesis", None)
        # The private synthesis is its author's, read in their own session, never by a token.
        if not is_author or via_token(request):
            data.pop("private_synthesis", None)
        return data


class FollowupOutput(AccompanimentOutput, s.FollowupSerializer):
    details_action = Action.VIEW_FOLLOWUP
    synthesis_action = Action.VIEW_FOLLOWUP_SYNTHESIS
    detail_fields = s.FOLLOWUP_DETAIL_FIELDS

    def to_representation(self, instance: Followup) -> dict[str, Any]:
        return self.hide(instance, super().to_representation(instance))


class HelpRequestOutput(AccompanimentOutput, s.HelpRequestSerializer):
    details_action = Action.LIST_HELP_REQUESTS
    synthesis_action = Action.VIEW_HELP_REQUEST_SYNTHESIS
    detail_fields = s.HELP_REQUEST_DETAIL_FIELDS + s.HELP_REQUEST_PROTECTED_FIELDS

    def to_representation(self, instance: HelpRequest) -> dict[str, Any]:
        data = self.hide(instance, super().to_representation(instance))
        if not can(self.context["request"].user, Action.VIEW_HELP_REQUEST_PROTECTED):
            for name in s.HELP_REQUEST_PROTECTED_FIELDS:
                data.pop(name, None)
        return data


class AccompanimentViewSet(ApiViewSet):
    """Listing, reading, creating and changing interviews or aid requests."""

    # Digits only, and few enough for a bigint: any other id is an unknown address (404).
    lookup_value_regex = ID_PATTERN

    model: type[Followup] | type[HelpRequest]
    form_class: type[FollowupForm] | type[HelpRequestForm]
    output_class: type
    write_class: type
    list_action: Action
    create_action: Action
    edit_action: Action
    synthesis_action: Action
    query: ListQuery
    choice_booleans: tuple[str, ...] = ()

    def items(self) -> QuerySet:  # type: ignore[type-arg]
        related = self.model.objects.select_related("beneficiary").prefetch_related(
            "documents", "beneficiary__referents"
        )
        return scoped_items(self.request.user, self.list_action, related)

    def get_item(self, item_id: int) -> Any:
        raise NotImplementedError

    def list(self, request: Request) -> Response:
        return self.paginated(self.query.apply(request, self.items()), self.output_class)

    def retrieve(self, request: Request, pk: str) -> Response:
        item = self.get_item(int(pk))
        item.beneficiary = Beneficiary.objects.prefetch_related("referents").get(
            pk=item.beneficiary_id
        )
        return self.output(item, self.output_class)

    def create(self, request: Request) -> Response:
        agent = request.user
        if not can(agent, self.create_action):
            raise Http404("Page introuvable.")
        values = self._validated(request, item=None)
        file_number = str(values.pop("beneficiary", "")).upper()
        if not file_number:
            raise ValidationError({"beneficiary": "Indiquez le numéro de dossier."})
        beneficiary = (
            beneficiaries_for(agent, self.create_action).filter(file_number=file_number).first()
        )
        if beneficiary is None:
            raise ValidationError({"beneficiary": f"Dossier introuvable : « {file_number} »."})
        if beneficiary.status == BeneficiaryStatus.ARCHIVED:
            raise Conflict("Ce dossier est archivé : vous ne pouvez plus y ajouter d'élément.")
        item = self.model(beneficiary=beneficiary)
        self._save(agent, item, values, documents=[])
        return self.output(self._reload(item), self.output_class, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        agent = request.user
        item = self.get_item(int(pk))
        if not allows(agent, self.edit_action, item):
            raise Http404("Élément introuvable.")
        # As on the web page: the history of an archived file is frozen.
        if item.beneficiary.status == BeneficiaryStatus.ARCHIVED:
            raise Conflict("Ce dossier est archivé : ses éléments ne peuvent plus être modifiés.")
        values = self._validated(request, item=item)
        self._save(agent, item, values, documents=list(item.documents.all()))
        return self.output(self._reload(item), self.output_class)

    def _writable(self, item: Any) -> set[str]:
        agent = self.request.user
        writable = set(self.write_class.Meta.fields)
        is_author = item is None or item.created_by_id == agent.pk
        if item is not None:
            writable.discard("beneficiary")
        if not (is_author or allows(agent, self.synthesis_action, item)):
            writable.discard("synthesis")
        if not is_author or via_token(self.request):
            writable.discard("private_synthesis")
        return writable

    def _validated(self, request: Request, item: Any) -> dict[str, Any]:
        data = check_body(request, self._writable(item))
        serializer = self.write_class(item, data=data, partial=True)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _save(self, agent: Agent, item: Any, values: dict[str, Any], documents: list) -> None:  # type: ignore[type-arg]
        writable = self._writable(item if item.pk else None)
        is_author = item.pk is None or item.created_by_id == agent.pk
        names = [
            name
            for name in self.form_class.Meta.fields
            if name in writable or name not in ("synthesis", "private_synthesis")
        ]
        merged = {**instance_values(item, names), **values}
        form = self.form_class(
            form_data(merged, self.choice_booleans),
            instance=item,
            documents=Document.objects.none(),
            show_synthesis="synthesis" in writable,
            show_private_synthesis=is_author and "private_synthesis" in writable,
        )
        if not form.is_valid():
            raise form_errors(form)
        try:
            if isinstance(item, Followup):
                save_followup(
                    agent, item, form.model_values(), form.cleaned_data["followup_types"], documents
                )
            else:
                save_help_request(agent, item, form.model_values(), documents)
        except AlreadyArchived as error:
            raise Conflict(" ".join(error.messages)) from None
        except DjangoValidationError as error:
            raise service_errors(error) from None

    def _reload(self, item: Any) -> Any:
        fresh = self.items().filter(pk=item.pk).first() or item
        fresh.beneficiary = Beneficiary.objects.prefetch_related("referents").get(
            pk=item.beneficiary_id
        )
        return fresh


FOLLOWUP_QUERY = ListQuery(
    filters=(
        _beneficiary_filter(),
        Filter("status", "status", "Statut.", kind="choice", choices=tuple(FollowupStatus.values)),
        Filter("date_after", "date__gte", "Entretiens de cette date ou après.", kind="date"),
        Filter("date_before", "date__lte", "Entretiens de cette date ou avant.", kind="date"),
    ),
    orderings={
        "id": (),
        "date": ("date",),
        "created_at": ("created_at",),
        "updated_at": ("updated_at",),
    },
    default_ordering="id",
)


class FollowupViewSet(AccompanimentViewSet):
    queryset = Followup.objects.none()
    model = Followup
    form_class = FollowupForm
    output_class = FollowupOutput
    serializer_class = FollowupOutput
    write_class = s.FollowupWriteSerializer
    list_action = Action.LIST_FOLLOWUPS
    create_action = Action.CREATE_FOLLOWUP
    edit_action = Action.EDIT_FOLLOWUP
    synthesis_action = Action.VIEW_FOLLOWUP_SYNTHESIS
    query = FOLLOWUP_QUERY

    def items(self) -> QuerySet:  # type: ignore[type-arg]
        return super().items().prefetch_related("followup_types")

    def get_item(self, item_id: int) -> Any:
        return get_followup_for(self.request.user, item_id, Action.LIST_FOLLOWUPS)

    @extend_schema(
        summary="Lister les entretiens",
        parameters=FOLLOWUP_QUERY.parameters(),
        responses={200: FollowupOutput(many=True), **ERRORS},
    )
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(summary="Lire un entretien", responses={200: FollowupOutput, **ERRORS})
    def retrieve(self, request: Request, pk: str) -> Response:
        return super().retrieve(request, pk)

    @extend_schema(
        summary="Créer un entretien",
        request=s.FollowupWriteSerializer,
        responses={201: FollowupOutput, **WRITE_ERRORS},
    )
    def create(self, request: Request) -> Response:
        return super().create(request)

    @extend_schema(
        summary="Modifier un entretien",
        request=s.FollowupWriteSerializer,
        responses={200: FollowupOutput, **WRITE_ERRORS},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return super().partial_update(request, pk)


HELP_REQUEST_QUERY = ListQuery(
    filters=(
        _beneficiary_filter(),
        Filter(
            "status", "status", "Statut.", kind="choice", choices=tuple(HelpRequestStatus.values)
        ),
        Filter(
            "opening_date_after", "opening_date__gte", "Ouvertes ce jour ou après.", kind="date"
        ),
        Filter(
            "opening_date_before", "opening_date__lte", "Ouvertes ce jour ou avant.", kind="date"
        ),
    ),
    orderings={
        "id": (),
        "opening_date": ("opening_date",),
        "created_at": ("created_at",),
        "updated_at": ("updated_at",),
    },
    default_ordering="id",
)


class HelpRequestViewSet(AccompanimentViewSet):
    queryset = HelpRequest.objects.none()
    model = HelpRequest
    form_class = HelpRequestForm
    output_class = HelpRequestOutput
    serializer_class = HelpRequestOutput
    write_class = s.HelpRequestWriteSerializer
    list_action = Action.LIST_HELP_REQUESTS
    create_action = Action.CREATE_HELP_REQUEST
    edit_action = Action.EDIT_HELP_REQUEST
    synthesis_action = Action.VIEW_HELP_REQUEST_SYNTHESIS
    query = HELP_REQUEST_QUERY
    choice_booleans = ("is_financial",)

    def get_item(self, item_id: int) -> Any:
        return get_help_request_for(self.request.user, item_id, Action.LIST_HELP_REQUESTS)

    @extend_schema(
        summary="Lister les demandes d'aide",
        parameters=HELP_REQUEST_QUERY.parameters(),
        responses={200: HelpRequestOutput(many=True), **ERRORS},
    )
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(summary="Lire une demande d'aide", responses={200: HelpRequestOutput, **ERRORS})
    def retrieve(self, request: Request, pk: str) -> Response:
        return super().retrieve(request, pk)

    @extend_schema(
        summary="Créer une demande d'aide",
        request=s.HelpRequestWriteSerializer,
        responses={201: HelpRequestOutput, **WRITE_ERRORS},
    )
    def create(self, request: Request) -> Response:
        return super().create(request)

    @extend_schema(
        summary="Modifier une demande d'aide",
        request=s.HelpRequestWriteSerializer,
        responses={200: HelpRequestOutput, **WRITE_ERRORS},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return super().partial_update(request, pk)


# Documents and follow-up types -----------------------------------------------------------------

DOCUMENT_QUERY = ListQuery(
    filters=(
        _beneficiary_filter(),
        Filter(
            "kind", "kind", "Type de document.", kind="choice", choices=tuple(DocumentType.values)
        ),
    ),
    orderings={"id": (), "created_at": ("created_at",)},
    default_ordering="id",
)


class DocumentViewSet(ApiViewSet):
    """Document metadata only: the files themselves are downloaded from the file's page."""

    queryset = Document.objects.none()
    serializer_class = s.DocumentSerializer
    lookup_value_regex = ID_PATTERN

    def documents(self) -> QuerySet[Document]:
        agent = self.request.user
        documents = scoped_items(
            agent, Action.VIEW_DOCUMENTS, Document.objects.select_related("beneficiary")
        )
        if not reads_all_confidential(agent):
            documents = documents.filter(Q(is_confidential=False) | Q(created_by=agent))
        return documents

    @extend_schema(
        summary="Lister les documents (métadonnées)",
        parameters=DOCUMENT_QUERY.parameters(),
        responses={200: s.DocumentSerializer(many=True), **ERRORS},
    )
    def list(self, request: Request) -> Response:
        return self.paginated(DOCUMENT_QUERY.apply(request, self.documents()), s.DocumentSerializer)

    @extend_schema(
        summary="Lire un document (métadonnées)", responses={200: s.DocumentSerializer, **ERRORS}
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        document = self.documents().filter(pk=int(pk)).first()
        if document is None:
            raise Http404("Document introuvable.")
        return self.output(document, s.DocumentSerializer)


TYPE_QUERY = ListQuery(filters=(), orderings={"id": (), "name": ("name",)}, default_ordering="id")


class FollowupTypeViewSet(ApiViewSet):
    queryset = FollowupType.objects.none()
    serializer_class = s.FollowupTypeSerializer

    @extend_schema(
        summary="Lister les types d'accompagnement",
        parameters=TYPE_QUERY.parameters(),
        responses={200: s.FollowupTypeSerializer(many=True), **ERRORS},
    )
    def list(self, request: Request) -> Response:
        if not can(request.user, Action.VIEW_STRUCTURE):
            raise Http404("Page introuvable.")
        types = TYPE_QUERY.apply(request, FollowupType.objects.all())
        return self.paginated(types, s.FollowupTypeSerializer)
