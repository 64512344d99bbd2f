from django.db import models

from core.enums import RelativeRelationship


class Relative(models.Model):
    """A member of the person's household or circle ("entourage")."""

    beneficiary = models.ForeignKey(
        "core.Beneficiary", on_delete=models.CASCADE, related_name="relatives"
    )
    relationship = models.CharField("lien", max_length=30, choices=RelativeRelationship.choices)
    last_name = models.CharField("nom", max_length=150, blank=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    birth_date = models.DateField("date de naissance", null=True, blank=True)
    city = models.CharField("ville", max_length=150, blank=True)
    email = models.EmailField("adresse e-mail", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    hosted = models.BooleanField("hébergé·e par la personne", default=False)
    caregiver = models.BooleanField("aidant·e", default=False)
    is_contact = models.BooleanField("personne à contacter", default=False)
    additional_information = models.TextField("informations complémentaires", blank=True)
    # The relative's own file in the same structure, when they are followed too.
    linked_beneficiary = models.ForeignKey(
        "core.Beneficiary",
        verbose_name="dossier lié",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="linked_as_relative",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "membre de l'entourage"
        ordering = ["relationship", "last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(linked_beneficiary=models.F("beneficiary")),
                name="relative_not_linked_to_own_file",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.linked_beneficiary_id and not (self.first_name or self.last_name):
            return self.linked_beneficiary.display_name
        return " ".join(part for part in [self.first_name, self.last_name.upper()] if part)
