from django.urls import path

from tenants import views, views_offboarding, views_statistics

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
    path(
        "console/structures/<slug:slug>/export/",
        views_offboarding.structure_export,
        name="structure_export",
    ),
    path(
        "console/structures/<slug:slug>/suppression/demande/",
        views_offboarding.structure_deletion_request,
        name="structure_deletion_request",
    ),
    path(
        "console/structures/<slug:slug>/suppression/annulation/",
        views_offboarding.structure_deletion_cancel,
        name="structure_deletion_cancel",
    ),
    path(
        "console/structures/<slug:slug>/suppression/confirmation/",
        views_offboarding.structure_deletion_confirm,
        name="structure_deletion_confirm",
    ),
    path("console/journal/", views_offboarding.national_journal, name="national_journal"),
    path("console/statistiques/", views_statistics.statistics, name="statistics"),
    path("console/statistiques/jetons/", views_statistics.token_list, name="statistics_tokens"),
    path(
        "console/statistiques/jetons/<int:pk>/revocation/",
        views_statistics.token_revoke,
        name="statistics_token_revoke",
    ),
]
