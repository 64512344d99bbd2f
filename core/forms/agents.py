from django import forms
from dsfr.forms import DsfrBaseForm

from core.enums import Role
from core.models import Agent


class AgentForm(forms.ModelForm, DsfrBaseForm):
    class Meta:
        model = Agent
        fields = ["first_name", "last_name", "email", "role", "is_active"]
        help_texts = {
            "email": "L'adresse avec laquelle la personne se connecte à ProConnect.",
            "is_active": "Décochez pour retirer l'accès : la personne est déconnectée aussitôt.",
        }

    def __init__(self, *args, acting_agent: Agent, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.acting_agent = acting_agent
        self.fields["role"].choices = Role.choices
        if not self.instance.pk:
            del self.fields["is_active"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        others = Agent.objects.filter(email=email).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                "Un agent de la structure utilise déjà cette adresse e-mail."
            )
        return email

    def clean(self) -> dict:  # type: ignore[type-arg]
        cleaned = super().clean()
        editing_self = self.instance.pk == self.acting_agent.pk
        if editing_self and cleaned.get("is_active") is False:
            self.add_error("is_active", "Vous ne pouvez pas désactiver votre propre accès.")
        if editing_self and cleaned.get("role") not in (None, Role.MANAGER):
            self.add_error(
                "role",
                "Vous ne pouvez pas retirer votre propre rôle de responsable : "
                "demandez-le à un autre responsable de la structure.",
            )
        return cleaned
