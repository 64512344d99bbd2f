"""Notifications: comments, documents, due dates and ends of support, the "Notifications" page,
the header count and the daily digest e-mail."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.enums import NotificationKind
from core.models import Agent, Beneficiary, Followup, FollowupType, HelpRequest, Notification
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from core.services.comments import add_comment
from core.services.documents import add_document
from core.services.notifications import _of_person, _to_file, notify_due_dates
from tenants.models import Structure
from tests.helpers import page_text, visible_text

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TODAY = timezone.localdate()


@pytest.fixture
def file(alpha):
    """A file of alpha followed by its referent persona and its social worker."""
    with tenant_context(alpha.structure):
        return create_beneficiary(
            alpha.agents["manager"],
            {"first_names": "Jean", "usual_name": "Martin"},
            [alpha.agents["referent"], alpha.agents["social_worker"]],
        )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    # django-tenants 4.0.1 caches MEDIA_ROOT and clears that cache only when this changes.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return tmp_path


def make_followup(site, beneficiary, author="instructor", **values):
    with tenant_context(site.structure):
        return save_followup(
            site.agents[author],
            Followup(beneficiary=beneficiary),
            {"date": TODAY - timedelta(days=30), "medium": "phone_call", **values},
            [FollowupType.objects.get(default_code="aide_alimentaire")],
        )


def make_request(site, beneficiary, author="instructor", **values):
    with tenant_context(site.structure):
        return save_help_request(
            site.agents[author],
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": TODAY - timedelta(days=30),
                "followup_type": FollowupType.objects.get(default_code="aide_alimentaire"),
                **values,
            },
        )


def notified(site, kind=None) -> dict[str, list[Notification]]:
    """Return the notifications of ``site``, by the role of their recipient."""
    with tenant_context(site.structure):
        rows = Notification.objects.select_related("recipient")
        if kind:
            rows = rows.filter(kind=kind)
        by_role: dict[str, list[Notification]] = {}
        for notification in rows:
            by_role.setdefault(notification.recipient.role, []).append(notification)
        return by_role


def reload(site, notification) -> Notification:
    with tenant_context(site.structure):
        return Notification.objects.get(pk=notification.pk)


def notify(site, role, message="Un message.", **values) -> Notification:
    with tenant_context(site.structure):
        return Notification.objects.create(
            recipient=site.agents[role],
            kind=values.pop("kind", NotificationKind.NEW_COMMENT),
            message=message,
            link=values.pop("link", "/beneficiaires/"),
            key=values.pop("key", message),
            **values,
        )


# Messages


@pytest.mark.parametrize(
    ("first_names", "usual_name", "of_person", "to_file"),
    [
        ("Jean", "Martin", "de Jean MARTIN", "au dossier de Jean MARTIN"),
        ("Anne", "Durand", "d'Anne DURAND", "au dossier d'Anne DURAND"),
        ("Élise", "", "d'Élise", "au dossier d'Élise"),
        ("", "", "du dossier n°AB23CD45EF", "au dossier n°AB23CD45EF"),
    ],
)
def test_messages_name_person_in_french(first_names, usual_name, of_person, to_file):
    beneficiary = Beneficiary(
        file_number="AB23CD45EF", first_names=first_names, usual_name=usual_name
    )

    assert _of_person(beneficiary) == of_person
    assert _to_file(beneficiary) == to_file


# Comments


def test_comment_notifies_referents_but_not_its_author(alpha, file):
    followup = make_followup(alpha, file)

    alpha.client("social_worker").post(
        f"/accompagnements/entretiens/{followup.pk}/commentaires/", {"contenu": "Appel fait."}
    )

    by_role = notified(alpha)
    assert list(by_role) == ["referent"]
    notification = by_role["referent"][0]
    assert notification.kind == NotificationKind.NEW_COMMENT
    assert notification.link == (
        f"/beneficiaires/{file.file_number}/?onglet=historique#entretien-{followup.pk}"
    )
    assert "Jean MARTIN" in notification.message
    assert "Appel fait." not in notification.message


def test_comment_on_aid_request_links_to_request(alpha, file):
    help_request = make_request(alpha, file)

    alpha.client("manager").post(
        f"/accompagnements/demandes-d-aide/{help_request.pk}/commentaires/", {"contenu": "Vu."}
    )

    by_role = notified(alpha)
    assert sorted(by_role) == ["referent", "social_worker"]
    assert by_role["referent"][0].link.endswith(f"?onglet=historique#demande-{help_request.pk}")


def test_comment_skips_inactive_referent(alpha, file):
    followup = make_followup(alpha, file)
    with tenant_context(alpha.structure):
        Agent.objects.filter(pk=alpha.agents["referent"].pk).update(is_active=False)
        add_comment(alpha.agents["manager"], followup, "Bien noté.")

    assert list(notified(alpha)) == ["social_worker"]


def test_comment_skips_referent_who_cannot_read_it(alpha, file):
    # A reception agent does not read the comments of aid requests, even as a referent.
    with tenant_context(alpha.structure):
        file.referents.add(alpha.agents["reception_agent"])
    help_request = make_request(alpha, file)

    with tenant_context(alpha.structure):
        add_comment(alpha.agents["manager"], help_request, "Dossier complet.")

    assert "reception_agent" not in notified(alpha)


def test_comment_key_is_the_comment(alpha, file):
    followup = make_followup(alpha, file)
    with tenant_context(alpha.structure):
        comment = add_comment(alpha.agents["manager"], followup, "Premier.")

    keys = {n.key for rows in notified(alpha).values() for n in rows}
    assert keys == {f"comment:{comment.pk}"}


# Documents


def test_document_notifies_referents_but_not_its_author(alpha, file, media):
    with tenant_context(alpha.structure):
        document = add_document(
            alpha.agents["social_worker"],
            file,
            SimpleUploadedFile("avis-imposition.pdf", PDF_BYTES),
            "proof",
            [],
            is_confidential=False,
        )

    by_role = notified(alpha, NotificationKind.NEW_DOCUMENT)
    assert list(by_role) == ["referent"]
    notification = by_role["referent"][0]
    assert notification.link == f"/beneficiaires/{file.file_number}/?onglet=documents"
    assert notification.key == f"document:{document.pk}"
    assert "avis-imposition.pdf" in notification.message


def test_confidential_document_notifies_only_who_sees_it(alpha, file, media):
    with tenant_context(alpha.structure):
        add_document(
            alpha.agents["manager"],
            file,
            SimpleUploadedFile("certificat-medical.pdf", PDF_BYTES),
            "proof",
            [],
            is_confidential=True,
        )

    by_role = notified(alpha, NotificationKind.NEW_DOCUMENT)
    # The referent role reads only the confidential documents it added itself.
    assert list(by_role) == ["social_worker"]
    assert "certificat-medical" not in by_role["social_worker"][0].message
    assert "document confidentiel" in by_role["social_worker"][0].message


# Due dates and ends of support


def test_due_date_notifies_author_and_referents(alpha, file):
    followup = make_followup(alpha, file, author="instructor", due_date=TODAY)

    with tenant_context(alpha.structure):
        created = notify_due_dates()

    by_role = notified(alpha, NotificationKind.DUE_DATE)
    assert created == 3
    assert sorted(by_role) == ["instructor", "referent", "social_worker"]
    assert by_role["instructor"][0].key == f"due:followup:{followup.pk}:{TODAY.isoformat()}"
    assert by_role["instructor"][0].link.endswith(f"#entretien-{followup.pk}")


def test_due_date_is_notified_once(alpha, file):
    make_followup(alpha, file, due_date=TODAY - timedelta(days=3))

    with tenant_context(alpha.structure):
        first = notify_due_dates()
        second = notify_due_dates()
        total = Notification.objects.count()

    assert first == 3
    assert second == 0
    assert total == 3


def test_changed_due_date_is_a_new_event(alpha, file):
    followup = make_followup(alpha, file, author="referent", due_date=TODAY - timedelta(days=3))
    with tenant_context(alpha.structure):
        notify_due_dates()
        Followup.objects.filter(pk=followup.pk).update(due_date=TODAY)
        created = notify_due_dates()

    assert created == 2


def test_due_date_skips_future_and_done_items(alpha, file):
    make_followup(alpha, file, due_date=TODAY + timedelta(days=1))
    make_followup(alpha, file, due_date=TODAY, status="done")
    make_request(alpha, file, due_date=TODAY, status="dismissed")

    with tenant_context(alpha.structure):
        created = notify_due_dates()

    assert created == 0


def test_due_date_skips_inactive_author(alpha, file):
    make_followup(alpha, file, author="instructor", due_date=TODAY)
    with tenant_context(alpha.structure):
        Agent.objects.filter(pk=alpha.agents["instructor"].pk).update(is_active=False)
        notify_due_dates()

    assert "instructor" not in notified(alpha)


def test_due_date_skips_author_who_lost_the_file(alpha, file):
    # A referent role reaches only the files it follows, so once removed it is not notified.
    make_followup(alpha, file, author="referent", due_date=TODAY)
    with tenant_context(alpha.structure):
        file.referents.remove(alpha.agents["referent"])
        notify_due_dates()

    assert sorted(notified(alpha)) == ["social_worker"]


def test_aid_request_due_date_and_end_of_support(alpha, file):
    help_request = make_request(
        alpha,
        file,
        author="manager",
        due_date=TODAY - timedelta(days=1),
        end_of_support_date=TODAY,
    )

    with tenant_context(alpha.structure):
        notify_due_dates()

    due = notified(alpha, NotificationKind.DUE_DATE)
    ended = notified(alpha, NotificationKind.END_OF_SUPPORT)
    assert sorted(due) == ["manager", "referent", "social_worker"]
    assert sorted(ended) == ["manager", "referent", "social_worker"]
    assert ended["manager"][0].key == (f"end:help_request:{help_request.pk}:{TODAY.isoformat()}")
    assert "a pris fin le" in ended["manager"][0].message


def test_future_end_of_support_is_not_notified(alpha, file):
    make_request(alpha, file, end_of_support_date=TODAY + timedelta(days=2))

    with tenant_context(alpha.structure):
        created = notify_due_dates()

    assert created == 0


# The "Notifications" page and the header


def test_page_lists_unread_first_then_newest(alpha):
    read = notify(alpha, "manager", "Ancienne lue.", is_read=True)
    older = notify(alpha, "manager", "Ancienne non lue.")
    newer = notify(alpha, "manager", "Récente non lue.")
    with tenant_context(alpha.structure):
        Notification.objects.filter(pk=read.pk).update(created_at=timezone.now())
        Notification.objects.filter(pk=older.pk).update(
            created_at=timezone.now() - timedelta(days=2)
        )
        Notification.objects.filter(pk=newer.pk).update(
            created_at=timezone.now() - timedelta(days=1)
        )

    text = visible_text(alpha.client("manager").get("/notifications/"))

    assert text.index("Récente non lue.") < text.index("Ancienne non lue.")
    assert text.index("Ancienne non lue.") < text.index("Ancienne lue.")


def test_page_shows_only_own_notifications(alpha):
    notify(alpha, "manager", "Pour la responsable.")
    notify(alpha, "referent", "Pour le référent.")

    text = page_text(alpha.client("referent").get("/notifications/"))

    assert "Pour le référent." in text
    assert "Pour la responsable." not in text


def test_mark_one_read(alpha):
    notification = notify(alpha, "manager")

    response = alpha.client("manager").post(f"/notifications/{notification.pk}/lue/")

    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert reload(alpha, notification).is_read


def test_open_marks_read_and_follows_link(alpha):
    notification = notify(alpha, "manager", link="/beneficiaires/?onglet=historique#demande-3")

    response = alpha.client("manager").post(
        f"/notifications/{notification.pk}/lue/", {"ouvrir": "1"}
    )

    assert response["Location"] == "/beneficiaires/?onglet=historique#demande-3"
    assert reload(alpha, notification).is_read


def test_open_never_leaves_the_site(alpha):
    notification = notify(alpha, "manager", link="//exemple.test/piege")

    response = alpha.client("manager").post(
        f"/notifications/{notification.pk}/lue/", {"ouvrir": "1"}
    )

    assert response["Location"] == "/notifications/"


def test_mark_read_of_another_agent_is_404(alpha):
    notification = notify(alpha, "manager")

    response = alpha.client("referent").post(f"/notifications/{notification.pk}/lue/")

    assert response.status_code == 404
    assert not reload(alpha, notification).is_read


def test_mark_read_needs_post(alpha):
    notification = notify(alpha, "manager")

    response = alpha.client("manager").get(f"/notifications/{notification.pk}/lue/")

    assert response.status_code == 405


def test_mark_all_read(alpha):
    notify(alpha, "manager", "Un.")
    notify(alpha, "manager", "Deux.")
    other = notify(alpha, "referent", "Trois.")

    alpha.client("manager").post("/notifications/tout-marquer-comme-lu/")

    with tenant_context(alpha.structure):
        assert not Notification.objects.filter(
            recipient=alpha.agents["manager"], is_read=False
        ).exists()
    assert not reload(alpha, other).is_read


def test_header_shows_unread_count(alpha):
    notify(alpha, "manager", "Un.")
    notify(alpha, "manager", "Deux.")
    notify(alpha, "manager", "Lue.", is_read=True)

    text = visible_text(alpha.client("manager").get("/mon-compte/"))

    assert "Notifications 2 non lues" in text


def test_header_without_unread_shows_no_count(alpha):
    text = visible_text(alpha.client("manager").get("/mon-compte/"))

    assert "Notifications" in text
    assert "non lue" not in text


def test_page_requires_sign_in(alpha):
    response = alpha.client().get("/notifications/")

    assert response.status_code == 302


# Structures stay apart


def test_beta_agent_never_gets_alpha_notifications(alpha, beta, file):
    followup = make_followup(alpha, file, due_date=TODAY)
    with tenant_context(alpha.structure):
        add_comment(alpha.agents["manager"], followup, "Commentaire chez alpha.")

    call_command("send_daily_digest")

    with tenant_context(beta.structure):
        assert not Notification.objects.exists()
    text = page_text(beta.client("referent").get("/notifications/"))
    assert "Jean MARTIN" not in text
    assert "Vous n'avez aucune notification." in text
    assert all("beta.test" not in message.to[0] for message in mail.outbox)


def test_alpha_notification_id_is_404_on_beta(alpha, beta):
    notification = notify(alpha, "manager")

    response = beta.client("manager").post(f"/notifications/{notification.pk}/lue/")

    assert response.status_code == 404


# The daily digest


def test_digest_sends_one_email_per_agent(alpha, file):
    notify(alpha, "manager", "Un.", beneficiary=file, link="/beneficiaires/X/")
    notify(alpha, "manager", "Deux.", beneficiary=file)
    notify(alpha, "referent", "Trois.")

    call_command("send_daily_digest")

    assert sorted(message.to[0] for message in mail.outbox) == [
        "manager@alpha.test",
        "referent@alpha.test",
    ]
    body = next(m.body for m in mail.outbox if m.to == ["manager@alpha.test"])
    assert f"{alpha.structure.url}beneficiaires/X/" in body
    assert f"dossier n° {file.file_number}" in body
    assert f"{alpha.structure.url}notifications/" in body
    with tenant_context(alpha.structure):
        assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_digest_twice_sends_nothing_twice(alpha, file):
    make_followup(alpha, file, due_date=TODAY)

    call_command("send_daily_digest")
    call_command("send_daily_digest")

    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == [
        "instructor@alpha.test",
        "referent@alpha.test",
        "social_worker@alpha.test",
    ]


def test_digest_sends_later_notifications_next_time(alpha):
    notify(alpha, "manager", "Première.")
    call_command("send_daily_digest")
    notify(alpha, "manager", "Seconde.")

    call_command("send_daily_digest")

    assert len(mail.outbox) == 2


def test_digest_creates_due_date_notifications_first(alpha, file):
    make_followup(alpha, file, author="instructor", due_date=TODAY)

    call_command("send_daily_digest")

    body = next(m.body for m in mail.outbox if m.to == ["instructor@alpha.test"])
    assert "Échéance atteinte" in body


def test_digest_names_no_person(alpha, file):
    followup = make_followup(alpha, file)
    with tenant_context(alpha.structure):
        add_comment(alpha.agents["manager"], followup, "Contenu du commentaire.")

    call_command("send_daily_digest")

    body = mail.outbox[0].body
    assert "Nouveau commentaire" in body
    assert "MARTIN" not in body
    assert "Contenu du commentaire." not in body


def test_digest_skips_read_notifications(alpha):
    notify(alpha, "manager", "Déjà lue.", is_read=True)

    call_command("send_daily_digest")

    assert mail.outbox == []


def test_digest_skips_inactive_agent(alpha):
    notify(alpha, "manager", "Pour un agent parti.")
    with tenant_context(alpha.structure):
        Agent.objects.filter(pk=alpha.agents["manager"].pk).update(is_active=False)

    call_command("send_daily_digest")

    assert mail.outbox == []


def test_digest_lists_at_most_fifty(alpha):
    for index in range(53):
        notify(alpha, "manager", f"Notification {index}.")

    call_command("send_daily_digest")

    body = mail.outbox[0].body
    assert body.count("- Nouveau commentaire") == 50
    assert "et 3 autres notifications" in body
    with tenant_context(alpha.structure):
        assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_digest_skips_suspended_structure(alpha, beta, caplog):
    notify(alpha, "manager", "Chez alpha.")
    notify(beta, "manager", "Chez beta.")
    Structure.objects.filter(pk=beta.structure.pk).update(status=Structure.Status.SUSPENDED)

    with caplog.at_level(logging.INFO):
        call_command("send_daily_digest")

    assert [message.to[0] for message in mail.outbox] == ["manager@alpha.test"]
    with tenant_context(beta.structure):
        assert Notification.objects.get().emailed_at is None
    assert f"skips structure {beta.structure.schema_name}" in caplog.text


def test_digest_keeps_notifications_when_mail_fails(alpha, settings, caplog):
    notification = notify(alpha, "manager", "Un.")
    settings.EMAIL_BACKEND = "tests.helpers.FailingEmailBackend"

    with caplog.at_level(logging.INFO):
        call_command("send_daily_digest")

    assert reload(alpha, notification).emailed_at is None
    assert "ConnectionRefusedError" in caplog.text
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_daily_digest")
    assert len(mail.outbox) == 1


def test_digest_logs_counts_without_personal_data(alpha, file, caplog):
    followup = make_followup(alpha, file, due_date=TODAY)
    with tenant_context(alpha.structure):
        add_comment(alpha.agents["manager"], followup, "Texte.")

    with caplog.at_level(logging.INFO):
        call_command("send_daily_digest")

    assert "Daily digest started" in caplog.text
    assert "Daily digest finished" in caplog.text
    assert (
        f"Daily digest of structure {alpha.structure.schema_name}: 3 due-date notifications "
        "created, 3 e-mails sent" in caplog.text
    )
    assert "@alpha.test" not in caplog.text
    assert "MARTIN" not in caplog.text


def test_digest_failure_of_one_structure_fails_the_command(alpha, monkeypatch):
    def broken(structure):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr("core.management.commands.send_daily_digest.send_digests", broken)

    with pytest.raises(CommandError, match=alpha.structure.schema_name):
        call_command("send_daily_digest")
