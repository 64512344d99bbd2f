from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("console/", views.structure_list, name="structure_list"),
    path("console/structures/nouvelle/", views.structure_create, name="structure_create"),
    path("console/structures/<slug:slug>/", views.structure_detail, name="structure_detail"),
    path(
        "console/structures/<slug:slug>/suspension/",
        views.structure_toggle_suspension,
        name="structure_toggle_suspension",
    ),
]
