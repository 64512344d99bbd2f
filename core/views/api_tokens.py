"""The manager's "Accès API" page: create and revoke the structure's API tokens."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from dsfr.forms import DsfrBaseForm

from core.api.tokens import create_token, revoke_token
from core.enums import Role
from core.models import ApiToken
from core.roles import Action
from core.views.decorators import agent_required


class ApiTokenForm(DsfrBaseForm):
    name = forms.CharField(
        label="Nom du jeton",
        max_length=100,
        help_text="Le logiciel ou le partenaire qui l'utilise, par exemple « Logiciel RH ».",
    )
    role = forms.ChoiceField(
        label="Rôle",
        choices=Role.choices,
        help_text="Le jeton a les droits de ce rôle, comme un agent de la structure.",
    )


def _page(request: HttpRequest, form: ApiTokenForm, secret: str = "", status: int = 200):  # type: ignore[no-untyped-def]
    context = {
        "form": form,
        "tokens": ApiToken.objects.select_related("created_by"),
        "secret": secret,
        "nav": "structure",
    }
    return render(request, "core/api_tokens/list.html", context, status=status)


@agent_required(Action.MANAGE_API_TOKENS)
def api_token_list(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, form, status=400)
        token, secret = create_token(
            request.user, form.cleaned_data["name"], form.cleaned_data["role"]
        )
        # The secret is in this response only: no redirect, no message stored in the session.
        response = _page(request, ApiTokenForm(), secret=secret)
        response["Cache-Control"] = "no-store"
        return response
    return _page(request, form)


@agent_required(Action.MANAGE_API_TOKENS)
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id)
    revoke_token(request.user, token)
    messages.success(request, f"Le jeton « {token.name} » est révoqué : il ne donne plus accès.")
    return redirect("core:api_token_list")
