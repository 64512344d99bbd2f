"""URLs of commission sessions, included in ``core.urls`` (names live in the ``core`` namespace)."""

from django.urls import path

from core.views import committees

urlpatterns = [
    path("commissions/", committees.committee_list, name="committee_list"),
    path("commissions/nouvelle/", committees.committee_create, name="committee_create"),
    path(
        "commissions/<int:committee_id>/",
        committees.committee_detail,
        name="committee_detail",
    ),
    path(
        "commissions/<int:committee_id>/demandes/",
        committees.committee_add_requests,
        name="committee_add_requests",
    ),
    path(
        "commissions/<int:committee_id>/demandes/<int:help_request_id>/retirer/",
        committees.committee_remove_request,
        name="committee_remove_request",
    ),
    path(
        "commissions/<int:committee_id>/decisions/",
        committees.committee_decisions,
        name="committee_decisions",
    ),
    path(
        "commissions/<int:committee_id>/cloture/",
        committees.committee_close,
        name="committee_close",
    ),
    path(
        "commissions/<int:committee_id>/proces-verbal/",
        committees.committee_minutes,
        name="committee_minutes",
    ),
    path(
        "commissions/<int:committee_id>/courriers/<int:help_request_id>/",
        committees.committee_letter,
        name="committee_letter",
    ),
]
