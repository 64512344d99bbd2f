"""Retention: the last contact, the warning before the limit, archiving on it, "conservation
justifiée", refused aid requests, consultation and audit rows, the job and its settings."""

import logging
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.enums import BeneficiaryStatus, HelpRequestStatus, NotificationKind
from core.models import (
    Agent,
    AuditEvent,
    Beneficiary,
    Comment,
    Consultation,
    Followup,
    FollowupType,
    HelpRequest,
    Notification,
    RetentionPolicy,
)
from core.services import retention
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from core.services.comments import add_comment
from core.services.retention import (
    apply_retention,
    hold_file,
    limit_of,
    with_last_contact,
)
from tenants.models import Structure
from tests.helpers import page_text

TODAY = timezone.localdate()


def _moment(day):
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_current_timezone())


def make_file(site, last_change, referents=("social_worker",), name="Martin"):
    """Create a file whose last change was on ``last_change``, with no interview."""
    with tenant_context(site.structure):
        beneficiary = create_beneficiary(
            site.agents["manager"],
            {"first_names": "Jeanne", "usual_name": name},
            [site.agents[role] for role in referents],
        )
        Beneficiary.objects.filter(pk=beneficiary.pk).update(updated_at=_moment(last_change))
        beneficiary.refresh_from_db()
    return beneficiary


def months_ago(months, days=0):
    return TODAY - relativedelta(months=months) + timedelta(days=days)


def status_of(site, beneficiary):
    with tenant_context(site.structure):
        return Beneficiary.objects.get(pk=beneficiary.pk).status


def warnings(site):
    with tenant_context(site.structure):
        return list(Notification.objects.filter(kind=NotificationKind.ARCHIVING_SOON))


# Last contact


def test_last_contact_is_latest_interview(alpha):
    beneficiary = make_file(alpha, months_ago(30))
    with tenant_context(alpha.structure):
        followup = save_followup(
            alpha.agents["manager"],
            Followup(beneficiary=beneficiary),
            {"date": months_ago(3), "medium": "phone_call"},
            [FollowupType.objects.get(default_code="aide_alimentaire")],
        )
        Followup.objects.filter(pk=followup.pk).update(updated_at=_moment(months_ago(3)))
        last_contact = with_last_contact(Beneficiary.objects.filter(pk=beneficiary.pk)).get()

    assert last_contact.last_contact == months_ago(3)


def test_future_end_of_support_pushes_limit(alpha):
    beneficiary = make_file(alpha, months_ago(30))
    support_end = TODAY + timedelta(days=200)
    with tenant_context(alpha.structure):
        help_request = save_help_request(
            alpha.agents["manager"],
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": months_ago(30),
                "followup_type": FollowupType.objects.get(default_code="aide_alimentaire"),
                "status": HelpRequestStatus.ACCEPTED,
                "decision_date": months_ago(30),
                "allocated_amount": 100,
                "end_of_support_date": support_end,
            },
        )
        HelpRequest.objects.filter(pk=help_request.pk).update(updated_at=_moment(months_ago(30)))
        limit = limit_of(beneficiary)

    assert limit == support_end + relativedelta(months=24)


def test_far_due_date_keeps_hold_page(alpha):
    # The forms accept any date: its limit lies past the last day Python can represent.
    beneficiary = make_file(alpha, months_ago(1))
    with tenant_context(alpha.structure):
        save_followup(
            alpha.agents["manager"],
            Followup(beneficiary=beneficiary),
            {"date": TODAY, "medium": "phone_call", "due_date": date(9999, 12, 1)},
            [FollowupType.objects.get(default_code="aide_alimentaire")],
        )
        result = apply_retention()

    response = alpha.client("manager").get(
        f"/beneficiaires/{beneficiary.file_number}/conservation/"
    )

    assert result.files_archived == 0
    assert response.status_code == 200
    assert "sera archivé le 31/12/9999" in page_text(response)


# Warning and archiving


def test_referents_warned_before_limit(alpha):
    beneficiary = make_file(alpha, months_ago(24, days=30), referents=("social_worker", "referent"))

    with tenant_context(alpha.structure):
        result = apply_retention()

    notified = {notification.recipient_id for notification in warnings(alpha)}
    assert result.files_warned == 1
    assert notified == {alpha.agents["social_worker"].pk, alpha.agents["referent"].pk}
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ACTIVE
    message = warnings(alpha)[0].message
    assert f"sera archivé le {TODAY + timedelta(days=30):%d/%m/%Y}" in message


def test_file_without_referents_warns_managers(alpha):
    make_file(alpha, months_ago(24, days=10), referents=())

    with tenant_context(alpha.structure):
        apply_retention()

    assert {n.recipient_id for n in warnings(alpha)} == {alpha.agents["manager"].pk}


def test_file_far_from_limit_is_left_alone(alpha):
    beneficiary = make_file(alpha, months_ago(23))

    with tenant_context(alpha.structure):
        result = apply_retention()

    assert result.files_warned == 0
    assert warnings(alpha) == []
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ACTIVE


def test_file_at_limit_is_archived_by_system(alpha):
    beneficiary = make_file(alpha, months_ago(24, days=30))
    with tenant_context(alpha.structure):
        apply_retention()

        result = apply_retention(TODAY + timedelta(days=30))
        event = AuditEvent.objects.get(action="archive_beneficiary")
        archived = Beneficiary.objects.get(pk=beneficiary.pk)

    assert result.files_archived == 1
    assert archived.status == BeneficiaryStatus.ARCHIVED
    assert archived.usual_name == ""
    assert archived.archived_by_id is None
    assert event.actor_label == "Système"


def test_file_past_limit_is_warned_first(alpha):
    # The job's first run, or its first run after downtime: nobody was warned yet.
    beneficiary = make_file(alpha, months_ago(30))
    planned = TODAY + timedelta(days=30)

    with tenant_context(alpha.structure):
        first = apply_retention()
        warned = warnings(alpha)
        day_before = apply_retention(planned - timedelta(days=1))
        status_before = status_of(alpha, beneficiary)
        on_planned_day = apply_retention(planned)

    assert first.files_archived == 0
    assert first.files_warned == 1
    assert f"sera archivé le {planned:%d/%m/%Y}" in warned[0].message
    assert day_before.files_archived == 0
    assert status_before == BeneficiaryStatus.ACTIVE
    assert on_planned_day.files_archived == 1
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ARCHIVED


def test_unwarned_file_is_never_archived(alpha):
    # No agent to warn: no manager, no referent. The file waits for someone to be warned.
    beneficiary = make_file(alpha, months_ago(30), referents=())
    with tenant_context(alpha.structure):
        Agent.objects.filter(role="manager").update(is_active=False)

        apply_retention()
        apply_retention(TODAY + timedelta(days=400))

    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ACTIVE


def test_contact_after_warning_cancels_plan(alpha):
    beneficiary = make_file(alpha, months_ago(24, days=30))
    with tenant_context(alpha.structure):
        apply_retention()
        Beneficiary.objects.filter(pk=beneficiary.pk).update(
            updated_at=_moment(TODAY + timedelta(days=20))
        )

        result = apply_retention(TODAY + timedelta(days=30))

    assert result.files_archived == 0
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ACTIVE


def test_planned_date_on_file_page(alpha):
    beneficiary = make_file(alpha, months_ago(30))
    with tenant_context(alpha.structure):
        apply_retention()
    url = f"/beneficiaires/{beneficiary.file_number}/"

    manager_page = page_text(alpha.client("manager").get(url))
    reception_page = page_text(alpha.client("reception_agent").get(url))

    planned = f"{TODAY + timedelta(days=30):%d/%m/%Y}"
    assert f"Archivage prévu le {planned}" in manager_page
    assert f"Archivage prévu le {planned}" not in reception_page


def test_hold_during_run_is_respected(alpha, monkeypatch):
    # The job reads its candidates once, then archives them one by one: an agent who records a
    # "conservation justifiée" meanwhile must find the file kept.
    first = make_file(alpha, months_ago(25))
    second = make_file(alpha, months_ago(25), name="Durand")
    with tenant_context(alpha.structure):
        apply_retention()
    archive = retention.archive_beneficiary

    def archive_then_agent_holds(actor, beneficiary):
        if beneficiary.pk == first.pk:
            hold_file(
                alpha.agents["manager"],
                second,
                TODAY + timedelta(days=60),
                "Recours en cours au tribunal.",
            )
        return archive(actor, beneficiary)

    monkeypatch.setattr(retention, "archive_beneficiary", archive_then_agent_holds)
    with tenant_context(alpha.structure):
        result = apply_retention(TODAY + timedelta(days=30))

    assert result.files_archived == 1
    assert status_of(alpha, first) == BeneficiaryStatus.ARCHIVED
    assert status_of(alpha, second) == BeneficiaryStatus.ACTIVE


def test_structure_durations_apply(alpha):
    # A shorter duration puts the file past its limit at once: it is warned, then archived
    # after the warning period, never on the day the duration changed.
    beneficiary = make_file(alpha, months_ago(7))
    with tenant_context(alpha.structure):
        RetentionPolicy.objects.create(pk=1, file_months=6, warning_days=15)

        first = apply_retention()
        warned = warnings(alpha)
        status_after_change = status_of(alpha, beneficiary)
        apply_retention(TODAY + timedelta(days=15))

    assert first.files_warned == 1
    assert f"sera archivé le {TODAY + timedelta(days=15):%d/%m/%Y}" in warned[0].message
    assert status_after_change == BeneficiaryStatus.ACTIVE
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ARCHIVED


# Conservation justifiée


def test_hold_keeps_file_past_limit(alpha):
    beneficiary = make_file(alpha, months_ago(30))
    with tenant_context(alpha.structure):
        hold_file(
            alpha.agents["social_worker"],
            beneficiary,
            TODAY + timedelta(days=60),
            "Procédure de surendettement en cours.",
        )

        result = apply_retention()

    assert result.files_archived == 0
    assert result.files_held == 1
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ACTIVE


def test_hold_end_is_warned_then_archived(alpha):
    beneficiary = make_file(alpha, months_ago(30))
    hold_end = TODAY + timedelta(days=40)
    with tenant_context(alpha.structure):
        hold_file(alpha.agents["manager"], beneficiary, hold_end, "Recours en cours au tribunal.")
        apply_retention()
        apply_retention(hold_end - timedelta(days=29))
        warned = warnings(alpha)

        apply_retention(hold_end + timedelta(days=1))

    assert f"{hold_end + timedelta(days=1):%d/%m/%Y}" in warned[0].message
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ARCHIVED


def test_hold_shorter_than_warning_period(alpha):
    # The hold ends in 5 days: the file is warned now and archived 30 days from now.
    beneficiary = make_file(alpha, months_ago(30))
    with tenant_context(alpha.structure):
        hold_file(
            alpha.agents["manager"], beneficiary, TODAY + timedelta(days=5), "Recours en cours."
        )
        apply_retention()
        warned = warnings(alpha)
        apply_retention(TODAY + timedelta(days=6))
        status_on_hold_end = status_of(alpha, beneficiary)
        apply_retention(TODAY + timedelta(days=30))

    assert f"{TODAY + timedelta(days=30):%d/%m/%Y}" in warned[0].message
    assert status_on_hold_end == BeneficiaryStatus.ACTIVE
    assert status_of(alpha, beneficiary) == BeneficiaryStatus.ARCHIVED


def test_hold_is_recorded_in_audit(alpha):
    beneficiary = make_file(alpha, months_ago(1))
    until = TODAY + timedelta(days=90)

    with tenant_context(alpha.structure):
        hold_file(alpha.agents["manager"], beneficiary, until, "Demande de la personne.")
        event = AuditEvent.objects.get(action="hold_retention")
        updated_at = Beneficiary.objects.get(pk=beneficiary.pk).updated_at

    assert event.beneficiary_id == beneficiary.pk
    assert event.changes["retention_hold_until"] == [None, until.isoformat()]
    assert event.changes["retention_hold_reason"] == ["", "Demande de la personne."]
    # Deciding to keep a file is no contact with the person.
    assert updated_at == beneficiary.updated_at


# Refused aid requests, consultations and audit rows


def make_refused_request(site, beneficiary, decided_on):
    with tenant_context(site.structure):
        help_request = save_help_request(
            site.agents["manager"],
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": decided_on - timedelta(days=20),
                "followup_type": FollowupType.objects.get(default_code="aide_alimentaire"),
                "status": HelpRequestStatus.REFUSED,
                "decision_date": decided_on,
                "refusal_reason": "Ressources Qz31X au-dessus du barème.",
                "synthesis": "Qz32X synthèse",
                "requested_amount": 80,
            },
        )
        add_comment(site.agents["manager"], help_request, "Qz33X commentaire")
    return help_request


def test_old_refused_request_is_anonymised(alpha):
    beneficiary = make_file(alpha, TODAY)
    old = make_refused_request(alpha, beneficiary, months_ago(13))
    recent = make_refused_request(alpha, beneficiary, months_ago(11))

    with tenant_context(alpha.structure):
        result = apply_retention()
        old.refresh_from_db()
        recent.refresh_from_db()
        trail = str(
            list(
                AuditEvent.objects.filter(target_type="helprequest", target_id=old.pk).values_list(
                    "changes", flat=True
                )
            )
        )
        comments = Comment.objects.filter(help_request=old).count()

    assert result.refused_requests_anonymized == 1
    assert old.refusal_reason == ""
    assert old.synthesis == ""
    assert old.requested_amount == 80
    assert old.status == HelpRequestStatus.REFUSED
    assert "Qz31X" not in trail
    assert comments == 0
    assert recent.refusal_reason != ""


def test_old_consultations_and_audit_rows_deleted(alpha):
    beneficiary = make_file(alpha, TODAY)
    with tenant_context(alpha.structure):
        old = Consultation.objects.create(agent=alpha.agents["manager"], beneficiary=beneficiary)
        recent = Consultation.objects.create(agent=alpha.agents["manager"], beneficiary=beneficiary)
        Consultation.objects.filter(pk=old.pk).update(consulted_at=_moment(months_ago(13)))
        old_event = AuditEvent.objects.filter(beneficiary_id=beneficiary.pk).first()
        AuditEvent.objects.filter(pk=old_event.pk).update(created_at=_moment(months_ago(61)))

        result = apply_retention()

        consultations = set(Consultation.objects.values_list("pk", flat=True))
        old_event_kept = AuditEvent.objects.filter(pk=old_event.pk).exists()

    assert result.consultations_deleted == 1
    assert result.audit_events_deleted == 1
    assert consultations == {recent.pk}
    assert old_event_kept is False


def test_date_applies_to_log_purge(alpha):
    beneficiary = make_file(alpha, TODAY)
    later = TODAY + relativedelta(months=13)
    with tenant_context(alpha.structure):
        Consultation.objects.create(agent=alpha.agents["manager"], beneficiary=beneficiary)
        event = AuditEvent.objects.filter(beneficiary_id=beneficiary.pk).first()
        AuditEvent.objects.filter(pk=event.pk).update(created_at=_moment(months_ago(50)))

        today_result = apply_retention()
        later_result = apply_retention(later)

    assert today_result.consultations_deleted == 0
    assert today_result.audit_events_deleted == 0
    assert later_result.consultations_deleted == 1
    assert later_result.audit_events_deleted == 1


def test_command_date_applies_to_log_purge(alpha):
    beneficiary = make_file(alpha, TODAY)
    with tenant_context(alpha.structure):
        Consultation.objects.create(agent=alpha.agents["manager"], beneficiary=beneficiary)
    later = TODAY + relativedelta(months=13)

    output = StringIO()
    call_command("apply_retention", "--date", later.isoformat(), stdout=output)

    assert "consultations_deleted=1" in output.getvalue()


# The command


def test_command_twice_does_what_once_does(alpha):
    make_file(alpha, months_ago(24, days=5))
    make_file(alpha, months_ago(25), name="Qz40X")
    make_refused_request(alpha, make_file(alpha, TODAY), months_ago(13))

    first = StringIO()
    call_command("apply_retention", stdout=first)
    with tenant_context(alpha.structure):
        state = (
            sorted(Beneficiary.objects.values_list("pk", "status", "usual_name")),
            sorted(Notification.objects.values_list("recipient_id", "key")),
            AuditEvent.objects.count(),
        )
    second = StringIO()
    call_command("apply_retention", stdout=second)
    with tenant_context(alpha.structure):
        state_again = (
            sorted(Beneficiary.objects.values_list("pk", "status", "usual_name")),
            sorted(Notification.objects.values_list("recipient_id", "key")),
            AuditEvent.objects.count(),
        )

    assert "alpha: files_warned=2" in first.getvalue()
    assert "files_archived=0" in first.getvalue()
    assert state_again == state
    assert "alpha: files_warned=0, notifications_created=0, files_archived=0" in second.getvalue()


def test_command_twice_on_archiving_day(alpha):
    make_file(alpha, months_ago(25), name="Qz40X")
    call_command("apply_retention", stdout=StringIO())
    archiving_day = (TODAY + timedelta(days=30)).isoformat()

    first = StringIO()
    call_command("apply_retention", "--date", archiving_day, stdout=first)
    with tenant_context(alpha.structure):
        state = sorted(Beneficiary.objects.values_list("pk", "status", "usual_name"))
    second = StringIO()
    call_command("apply_retention", "--date", archiving_day, stdout=second)
    with tenant_context(alpha.structure):
        state_again = sorted(Beneficiary.objects.values_list("pk", "status", "usual_name"))

    assert "files_archived=1" in first.getvalue()
    assert "files_archived=0" in second.getvalue()
    assert state_again == state


def test_command_skips_suspended_structure(alpha, beta):
    beneficiary = make_file(beta, months_ago(30))
    Structure.objects.filter(pk=beta.structure.pk).update(status=Structure.Status.SUSPENDED)

    call_command("apply_retention", stdout=StringIO())

    assert status_of(beta, beneficiary) == BeneficiaryStatus.ACTIVE


def test_command_logs_counts_without_personal_data(alpha, caplog):
    make_file(alpha, months_ago(25), name="Qz41X")

    with caplog.at_level(logging.INFO):
        call_command("apply_retention", stdout=StringIO())

    assert "Retention job finished" in caplog.text
    assert "Qz41X" not in caplog.text


# The screens


def test_manager_saves_retention_settings(alpha):
    response = alpha.client("manager").post(
        "/structure/",
        {
            "formulaire": "conservation",
            "file_months": 36,
            "warning_days": 15,
            "refused_request_months": 6,
            "consultation_months": 12,
            "audit_months": 48,
        },
    )

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        policy = RetentionPolicy.load()
        event = AuditEvent.objects.get(action="update_retention_policy")
    assert policy.file_months == 36
    assert policy.warning_days == 15
    assert event.changes["file_months"] == [24, 36]


@pytest.mark.parametrize("value", ["0", "abc", "500"])
def test_invalid_duration_gets_french_error(alpha, value):
    response = alpha.client("manager").post(
        "/structure/",
        {
            "formulaire": "conservation",
            "file_months": value,
            "warning_days": 30,
            "refused_request_months": 12,
            "consultation_months": 12,
            "audit_months": 60,
        },
    )

    assert response.status_code == 200
    assert "Durée de conservation des dossiers" in page_text(response)
    assert any(
        text in page_text(response)
        for text in ("Assurez-vous que cette valeur", "Saisissez un nombre entier")
    )
    with tenant_context(alpha.structure):
        assert RetentionPolicy.objects.exists() is False


def test_negative_duration_asks_one_or_more(alpha):
    response = alpha.client("manager").post(
        "/structure/",
        {
            "formulaire": "conservation",
            "file_months": "-1",
            "warning_days": 30,
            "refused_request_months": 12,
            "consultation_months": 12,
            "audit_months": 60,
        },
    )

    assert response.status_code == 200
    # Not "0 or more", because 0 is rejected too.
    assert "supérieure ou égale à 1." in page_text(response)


def test_social_worker_cannot_change_retention(alpha):
    alpha.client("social_worker").post(
        "/structure/", {"formulaire": "conservation", "file_months": 1, "warning_days": 1}
    )

    with tenant_context(alpha.structure):
        assert RetentionPolicy.load().file_months == 24


def test_hold_from_file_page(alpha):
    beneficiary = make_file(alpha, months_ago(1))
    url = f"/beneficiaires/{beneficiary.file_number}/conservation/"
    until = TODAY + timedelta(days=100)

    form = alpha.client("social_worker").get(url)
    response = alpha.client("social_worker").post(
        url, {"until": until.isoformat(), "reason": "Dossier de surendettement en cours."}
    )

    assert "sera archivé le" in page_text(form)
    assert response.status_code == 302
    with tenant_context(alpha.structure):
        held = Beneficiary.objects.get(pk=beneficiary.pk)
    assert held.retention_hold_until == until
    assert held.retention_hold_reason == "Dossier de surendettement en cours."


@pytest.mark.parametrize(
    ("until", "reason", "error"),
    [
        (TODAY - timedelta(days=1), "Une raison valable.", "postérieure à aujourd'hui"),
        (TODAY + timedelta(days=365 * 6), "Une raison valable.", "au plus tard le"),
        ("31/02/2030", "Une raison valable.", "Saisissez une date valide"),
        (TODAY + timedelta(days=10), "", "Indiquez le motif"),
        (TODAY + timedelta(days=10), "court", "au moins 10 caractères"),
    ],
)
def test_invalid_hold_gets_french_error(alpha, until, reason, error):
    beneficiary = make_file(alpha, months_ago(1))

    response = alpha.client("manager").post(
        f"/beneficiaires/{beneficiary.file_number}/conservation/",
        {"until": str(until), "reason": reason},
    )

    assert response.status_code == 200
    assert error in page_text(response)


def test_hold_can_be_ended(alpha):
    beneficiary = make_file(alpha, months_ago(1))
    with tenant_context(alpha.structure):
        hold_file(alpha.agents["manager"], beneficiary, TODAY + timedelta(days=9), "Raison longue.")

    alpha.client("manager").post(
        f"/beneficiaires/{beneficiary.file_number}/conservation/", {"formulaire": "lever"}
    )

    with tenant_context(alpha.structure):
        assert Beneficiary.objects.get(pk=beneficiary.pk).retention_hold_until is None
        assert AuditEvent.objects.filter(action="end_retention_hold").exists()


@pytest.mark.parametrize("role", ["reception_agent"])
def test_role_without_hold_gets_404(alpha, role):
    beneficiary = make_file(alpha, months_ago(1))

    response = alpha.client(role).get(f"/beneficiaires/{beneficiary.file_number}/conservation/")

    assert response.status_code == 404


def test_agent_of_other_structure_gets_404(alpha, beta):
    beneficiary = make_file(alpha, months_ago(1))

    response = beta.client("manager").get(f"/beneficiaires/{beneficiary.file_number}/conservation/")

    assert response.status_code == 404
