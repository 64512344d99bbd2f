"""URLs of the structure's API, included under /api/ by ``src.urls_tenant``."""

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from core.api import views
from core.api.authentication import BearerTokenAuthentication, CsrfSessionAuthentication
from core.api.permissions import IsStructureAgent

router = SimpleRouter()
router.include_format_suffixes = False
router.register("beneficiaries", views.BeneficiaryViewSet, basename="api-beneficiary")
router.register("followups", views.FollowupViewSet, basename="api-followup")
router.register("help-requests", views.HelpRequestViewSet, basename="api-help-request")
router.register("documents", views.DocumentViewSet, basename="api-document")
router.register("followup-types", views.FollowupTypeViewSet, basename="api-followup-type")

SCHEMA_SETTINGS = {
    "TITLE": "Suivi Social : API de la structure",
    "DESCRIPTION": (
        "Les données de la structure : dossiers des bénéficiaires, entourage, entretiens, "
        "demandes d'aide et métadonnées des documents.\n\n"
        "Authentification : en-tête `Authorization: Bearer <jeton>`, avec un jeton créé par le "
        "responsable de la structure (page « Accès API »), ou session d'un agent connecté. Le "
        "jeton agit avec son rôle, selon la même matrice des droits que l'interface ; une "
        "ressource absente et une ressource non autorisée répondent toutes deux 404.\n\n"
        "Les listes sont paginées (`page`, `page_size` de 1 à 200, 50 par défaut) et triées "
        "sur une clé unique ; un paramètre inconnu répond 400."
    ),
    "VERSION": "1",
    # Fields an agent may not read are left out of each object, so none is required.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    # Several fields are named "status"; name their enums after the model.
    "ENUM_NAME_OVERRIDES": {
        "BeneficiaryStatusEnum": "core.enums.BeneficiaryStatus",
        "FollowupStatusEnum": "core.enums.FollowupStatus",
        "HelpRequestStatusEnum": "core.enums.HelpRequestStatus",
        "IncomeSourceEnum": "core.enums.IncomeSource",
    },
}


# The schema describes the data endpoints, not the endpoint that serves it. drf-spectacular reads
# its SERVE_INCLUDE_SCHEMA setting at import, before custom_settings apply, hence the decorator.
@extend_schema_view(get=extend_schema(exclude=True))
class SchemaView(SpectacularAPIView):
    pass


schema_view = SchemaView.as_view(
    custom_settings=SCHEMA_SETTINGS,
    authentication_classes=[BearerTokenAuthentication, CsrfSessionAuthentication],
    permission_classes=[IsStructureAgent],
)

urlpatterns = [
    path("schema/", schema_view, name="api_schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="api_schema", title=SCHEMA_SETTINGS["TITLE"], permission_classes=[AllowAny]
        ),
        name="api_docs",
    ),
    *router.urls,
    # Last, so that any other address under /api/ gets a JSON 404 rather than an HTML page.
    # "[\s\S]" rather than ".": a path may contain an encoded line break.
    re_path(r"^(?P<path>[\s\S]*)$", views.unknown_address),
]
