"""URLs of the national API, included under ``PREFIX`` by ``src.urls_public``."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from tenants.national_api import views
from tenants.national_api.schema import SCHEMA_SETTINGS

app_name = "national_api"
PREFIX = "api/nationale/"

data_urlpatterns = [
    path("statistiques/", views.NationalTotals.as_view(), name="totals"),
    path("statistiques/structures/", views.StructureList.as_view(), name="structures"),
    path(
        "statistiques/structures/<slug:slug>/",
        views.StructureDetail.as_view(),
        name="structure",
    ),
]

# The schema and its page describe the API and hold no figure, so they need no token: a client
# reads them before asking the national team for one.
schema_view = SpectacularAPIView.as_view(
    custom_settings=SCHEMA_SETTINGS,
    patterns=[path(PREFIX, include(data_urlpatterns))],
    authentication_classes=[],
    permission_classes=[AllowAny],
)

urlpatterns = [
    *data_urlpatterns,
    path("schema/", schema_view, name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="national_api:schema",
            title=SCHEMA_SETTINGS["TITLE"],
            authentication_classes=[],
            permission_classes=[AllowAny],
        ),
        name="docs",
    ),
    # Last: any other address under the prefix that ends with a slash (a slug with characters
    # a slug cannot have, for instance) gets a JSON 404 rather than the HTML page.
    re_path(r"^[\s\S]*/$", views.not_found),
]
