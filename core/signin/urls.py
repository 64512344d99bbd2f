"""Sign-in URLs served on every host, structure and public alike."""

from django.urls import path

from core.signin import views

urlpatterns = [
    path("connexion/", views.sign_in_page, name="sign_in"),
    path("connexion/proconnect/", views.start_sign_in, name="sign_in_start"),
    path("deconnexion/", views.sign_out, name="sign_out"),
]
