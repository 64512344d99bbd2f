from django.urls import path

from tenants import views, views_statistics

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
    path("console/statistiques/", views_statistics.statistics, name="statistics"),
    path("console/statistiques/jetons/", views_statistics.token_list, name="statistics_tokens"),
    path(
        "console/statistiques/jetons/<int:pk>/revocation/",
        views_statistics.token_revoke,
        name="statistics_token_revoke",
    ),
]
