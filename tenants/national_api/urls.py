from django.urls import path

from tenants.national_api import views

app_name = "national_api"

urlpatterns = [
    path("statistiques/", views.NationalTotals.as_view(), name="totals"),
    path("statistiques/structures/", views.StructureList.as_view(), name="structures"),
    path(
        "statistiques/structures/<slug:slug>/",
        views.StructureDetail.as_view(),
        name="structure",
    ),
]
