"""URLs of a structure's host (<slug>.<BASE_DOMAIN>)."""

from django.urls import include, path

from core.signin import views as signin_views

urlpatterns = [
    path("", include("core.signin.urls")),
    path("oidc/retour/", signin_views.callback, name="oidc_callback"),
    path("api/", include("core.api.urls")),
    path("", include("core.urls")),
]
