"""Interviews ("entretiens") and aid requests ("demandes d'aide"): the daily work on a file."""

from django.db import models

from core.enums import (
    FinancialAidReason,
    FollowupMedium,
    FollowupStatus,
    HelpRequestStatus,
    InstructionKind,
    PaymentMethod,
)


class Accompaniment(models.Model):
    """Fields shared by interviews and aid requests: the file, the author, the two syntheses."""

    beneficiary = models.ForeignKey(
        "core.Beneficiary", on_delete=models.CASCADE, related_name="%(class)ss"
    )
    created_by = models.ForeignKey(
        "core.Agent", verbose_name="agent", on_delete=models.PROTECT, related_name="+"
    )
    prescribing_organisation = models.CharField(
        "organisme prescripteur", max_length=200, blank=True
    )
    due_date = models.DateField("date d'échéance", null=True, blank=True, db_index=True)
    # Shared according to the role matrix.
    synthesis = models.TextField("compte rendu", blank=True)
    # Readable and writable by its author only, whatever their role.
    private_synthesis = models.TextField("compte rendu privé", blank=True)
    documents = models.ManyToManyField(
        "core.Document", verbose_name="documents", blank=True, related_name="+"
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        abstract = True


class Followup(Accompaniment):
    """An interview with the person, or about them."""

    date = models.DateField("date")
    medium = models.CharField("type d'entretien", max_length=30, choices=FollowupMedium.choices)
    third_person_name = models.CharField("tierce personne", max_length=200, blank=True)
    place = models.CharField("lieu", max_length=200, blank=True)
    followup_types = models.ManyToManyField(
        "core.FollowupType", verbose_name="accompagnement(s)", related_name="followups"
    )
    status = models.CharField(
        "statut", max_length=20, choices=FollowupStatus.choices, default=FollowupStatus.TODO
    )
    redirected = models.BooleanField("réorienté après l'entretien", default=False)
    help_request_started = models.BooleanField("instruction de demande d'aide", default=False)

    class Meta:
        verbose_name = "entretien"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["beneficiary", "-date"], name="followup_file_date")]

    def __str__(self) -> str:
        return f"Entretien du {self.date:%d/%m/%Y}"


class HelpRequest(Accompaniment):
    """An aid request, from opening to decision, payment and end of support."""

    opening_date = models.DateField("date d'ouverture du dossier")
    followup_type = models.ForeignKey(
        "core.FollowupType",
        verbose_name="accompagnement",
        on_delete=models.PROTECT,
        related_name="help_requests",
    )
    status = models.CharField(
        "statut",
        max_length=40,
        choices=HelpRequestStatus.choices,
        default=HelpRequestStatus.INVESTIGATION_ONGOING,
    )
    is_complete = models.BooleanField("dossier complet", default=False)
    is_financial = models.BooleanField("s'agit-il d'une aide financière ?", default=True)
    financial_reason = models.CharField(
        "motif de l'aide financière", max_length=20, choices=FinancialAidReason.choices, blank=True
    )
    instruction = models.CharField(
        "l'instruction de la demande est réalisée...",
        max_length=20,
        choices=InstructionKind.choices,
        default=InstructionKind.INTERNAL,
    )
    instructor_organisation = models.CharField("organisme instructeur", max_length=200, blank=True)
    dispatch_date = models.DateField("date d'envoi du dossier", null=True, blank=True)
    requested_amount = models.DecimalField(
        "montant demandé (€)", max_digits=9, decimal_places=2, null=True, blank=True
    )
    committee = models.ForeignKey(
        "core.Committee",
        verbose_name="commission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="help_requests",
    )
    committee_date = models.DateField("date de passage en commission", null=True, blank=True)
    decision_date = models.DateField("date de la décision", null=True, blank=True)
    allocated_amount = models.DecimalField(
        "montant attribué (€)", max_digits=9, decimal_places=2, null=True, blank=True
    )
    refusal_reason = models.TextField("motif du refus", blank=True)
    payment_method = models.CharField(
        "mode de paiement", max_length=20, choices=PaymentMethod.choices, blank=True
    )
    payment_date = models.DateField("date du paiement", null=True, blank=True)
    end_of_support_date = models.DateField("date de fin de prise en charge", null=True, blank=True)
    # Set once the request's texts were erased, by archiving its file or by the retention of
    # refused requests.
    anonymized_at = models.DateTimeField("anonymisée le", null=True, blank=True)

    class Meta:
        verbose_name = "demande d'aide"
        verbose_name_plural = "demandes d'aide"
        ordering = ["-opening_date", "-id"]
        indexes = [
            models.Index(fields=["beneficiary", "-opening_date"], name="help_request_file_date")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(allocated_amount__isnull=True) | ~models.Q(status="refused"),
                name="refused_request_has_no_allocated_amount",
                violation_error_message=(
                    "Un montant attribué n'est possible que pour une demande acceptée. "
                    "Changez le statut ou effacez le montant."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(payment_date__isnull=True)
                | models.Q(status="accepted")
                | models.Q(status="closed_by_beneficiary"),
                name="only_granted_request_is_paid",
                violation_error_message=(
                    "Une aide ne peut être payée qu'une fois accordée : passez la demande à "
                    "« Accepté » avant d'indiquer le paiement."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Demande d'aide du {self.opening_date:%d/%m/%Y}"
