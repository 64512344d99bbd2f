"""URLs of the statistics, included in ``core.urls`` (names live in the ``core`` namespace)."""

from django.urls import path

from core.views import statistics

urlpatterns = [
    path("statistiques/", statistics.statistics_page, name="statistics"),
    path(
        "statistiques/rapport-activite/",
        statistics.activity_report,
        name="statistics_activity_report",
    ),
]
