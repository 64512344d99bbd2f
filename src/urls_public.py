"""URLs of the public (apex) domain: landing page, national console, sign-in relay."""

from django.urls import include, path

from core.signin import views as signin_views
from tenants.national_api.urls import PREFIX as NATIONAL_API_PREFIX

urlpatterns = [
    path("", include("core.signin.urls")),
    path("oidc/callback/", signin_views.callback_relay, name="oidc_callback_relay"),
    path("deconnexion/retour/", signin_views.sign_out_return, name="sign_out_return"),
    path(NATIONAL_API_PREFIX, include("tenants.national_api.urls")),
    path("", include("tenants.urls")),
]
