"""Sign-in and sign-out through ProConnect, for agents (structure hosts) and the national team
(public host).

The provider has one registered redirect URI, on the public domain. The ``state`` sent to it starts
with the structure's slug, so the public callback can send the browser back to the structure
where the sign-in started; that structure's session then checks the state and the nonce.
"""

import logging
import re
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.crypto import get_random_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.signin import provider
from core.signin.backend import ProConnectBackend, SignInFailed, SignInRefused, callback_url
from tenants.api import structures_inviting
from tenants.models import Structure, public_url, slug_validator

logger = logging.getLogger(__name__)

BACKEND_PATH = "core.signin.backend.ProConnectBackend"
STATE_SEPARATOR = "~"
SLUG_PATTERN = re.compile(slug_validator.regex.pattern.strip("^$"))
# Pending sign-ins kept per session: enough for a few tabs, small enough to stay bounded.
MAX_PENDING_STATES = 5
PENDING_STATE_SECONDS = 15 * 60

FAILURE_MESSAGES = {
    "state_unknown": (
        "Cette tentative de connexion a expiré ou a déjà été utilisée. "
        "Recommencez la connexion depuis le début."
    ),
    "provider_error": "ProConnect a interrompu la connexion. Vous pouvez réessayer.",
    "provider_unavailable": (
        "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes ; "
        "si le problème dure, contactez le support."
    ),
    "code_rejected": (
        "La connexion n'a pas abouti à temps ou a déjà été utilisée. Recommencez la connexion."
    ),
    "invalid_token": (
        "La réponse de ProConnect n'a pas pu être vérifiée. Recommencez la connexion ; "
        "si le problème dure, contactez le support."
    ),
    "missing_claim": (
        "ProConnect n'a pas transmis toutes les informations nécessaires, notamment votre "
        "adresse e-mail. Vérifiez votre compte auprès de votre fournisseur d'identité, puis "
        "réessayez."
    ),
}


def _slug_from_state(request: HttpRequest) -> str | None:
    """Return the structure slug carried by ``state``: "" for the public site, None if invalid."""
    slug = request.GET.get("state", "").partition(STATE_SEPARATOR)[0]
    if slug and not SLUG_PATTERN.fullmatch(slug):
        return None
    return slug


def _site_prefix(request: HttpRequest) -> str:
    tenant = getattr(request, "tenant", None)
    return tenant.slug if isinstance(tenant, Structure) else ""


@require_GET
def sign_in_page(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect("/")
    next_url = _safe_next(request, request.GET.get("next", ""))
    context = {"next": next_url, "signed_out": "deconnecte" in request.GET}
    return render(request, "signin/sign_in.html", context)


@require_http_methods(["GET", "POST"])
def start_sign_in(request: HttpRequest) -> HttpResponse:
    """Send the browser to ProConnect with a fresh state and nonce kept in this session."""
    try:
        endpoints = provider.metadata()
    except provider.ProviderUnavailable as error:
        logger.warning("Sign-in not started, provider unavailable: %s", error)
        return _failure(request, "provider_unavailable")

    state = f"{_site_prefix(request)}{STATE_SEPARATOR}{get_random_string(32)}"
    nonce = get_random_string(32)
    pending = _pending_states(request)
    pending[state] = {
        "nonce": nonce,
        "created": time.time(),
        "next": _safe_next(request, request.POST.get("next") or request.GET.get("next", "")),
    }
    # Keep only the newest ones, so an abandoned tab cannot grow the session forever.
    newest = sorted(pending.items(), key=lambda item: item[1]["created"])[-MAX_PENDING_STATES:]
    request.session["oidc_states"] = dict(newest)

    params = {
        "response_type": "code",
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "redirect_uri": callback_url(),
        "scope": settings.OIDC_RP_SCOPES,
        "state": state,
        "nonce": nonce,
        "acr_values": settings.OIDC_ACR_VALUES,
    }
    return HttpResponseRedirect(f"{endpoints.authorization_endpoint}?{urlencode(params)}")


@require_GET
def callback_relay(request: HttpRequest) -> HttpResponse:
    """Public redirect URI: finish a national sign-in here, or pass it on to its structure."""
    slug = _slug_from_state(request)
    if slug == "":
        return callback(request)

    structure = None
    if slug is not None:
        structure = Structure.objects.filter(slug=slug).first()
    if structure is not None and structure.status == Structure.Status.SUSPENDED:
        # The structure was suspended while the agent was at the identity provider.
        logger.warning("Sign-in callback for suspended structure %s", structure.schema_name)
        return render(
            request, "errors/structure_suspended.html", {"structure": structure}, status=403
        )
    if structure is None or structure.status != Structure.Status.ACTIVE:
        logger.warning("Sign-in callback for an unknown or inactive structure")
        return _failure(request, "state_unknown")
    return HttpResponseRedirect(f"{structure.url}oidc/retour/?{request.GET.urlencode()}")


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    pending = _pending_states(request)
    # Each state is used once, whatever happens next, so a replayed callback finds nothing.
    attempt = pending.pop(state, None)
    request.session["oidc_states"] = pending

    if request.GET.get("error"):
        logger.warning("Provider returned an error: %s", request.GET.get("error")[:100])
        return _failure(request, "provider_error")
    if attempt is None or time.time() - attempt["created"] > PENDING_STATE_SECONDS:
        logger.warning("Sign-in callback with an unknown or expired state")
        return _failure(request, "state_unknown")
    code = request.GET.get("code")
    if not code:
        return _failure(request, "provider_error")

    try:
        user, id_token = ProConnectBackend().authenticate_code(code, nonce=attempt["nonce"])
    except provider.ProviderUnavailable as error:
        logger.warning("Sign-in failed, provider unavailable: %s", error)
        return _failure(request, "provider_unavailable")
    except SignInFailed as error:
        logger.warning("Sign-in failed (%s): %s", error.reason, error.detail)
        return _failure(request, error.reason)
    except SignInRefused as refusal:
        logger.warning(
            "Sign-in rejected: %s", "deactivated" if refusal.deactivated else "not invited"
        )
        return _refusal(request, refusal)

    auth.login(request, user, backend=BACKEND_PATH)
    request.session["oidc_id_token"] = id_token
    logger.info("User %s signed in", user.pk)
    return HttpResponseRedirect(attempt.get("next") or "/")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the local session, then ProConnect's, which sends the browser back here."""
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    signed_out_page = "/connexion/?deconnecte=1"
    try:
        end_session = provider.metadata().end_session_endpoint
    except provider.ProviderUnavailable as error:
        logger.warning("Provider unavailable at sign-out, local session ended: %s", error)
        end_session = ""
    if not id_token or not end_session:
        return HttpResponseRedirect(signed_out_page)

    params = {
        "id_token_hint": id_token,
        "state": f"{_site_prefix(request)}{STATE_SEPARATOR}{get_random_string(32)}",
        "post_logout_redirect_uri": public_url("/deconnexion/retour/"),
    }
    return HttpResponseRedirect(f"{end_session}?{urlencode(params)}")


@require_GET
def sign_out_return(request: HttpRequest) -> HttpResponse:
    """Public post-logout URI: send the browser to the sign-in page it left from."""
    slug = _slug_from_state(request)
    structure = Structure.objects.filter(slug=slug).first() if slug else None
    base = structure.url if structure else public_url()
    return HttpResponseRedirect(f"{base}connexion/?deconnecte=1")


def _pending_states(request: HttpRequest) -> dict[str, Any]:
    return dict(request.session.get("oidc_states", {}))


def _safe_next(request: HttpRequest, next_url: str) -> str:
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return next_url
    return ""


def _failure(request: HttpRequest, reason: str) -> HttpResponse:
    context = {"message": FAILURE_MESSAGES.get(reason, FAILURE_MESSAGES["invalid_token"])}
    status = 503 if reason == "provider_unavailable" else 400
    return render(request, "signin/failure.html", context, status=status)


def _refusal(request: HttpRequest, refusal: SignInRefused) -> HttpResponse:
    claims = refusal.claims
    email = str(claims.get("email", "")).lower()
    tenant = getattr(request, "tenant", None)
    context = {
        "email": email,
        "siret": claims.get("siret", ""),
        "organization": claims.get("organization_label", ""),
        "deactivated": refusal.deactivated,
        "elsewhere": [s for s in structures_inviting(email) if s != tenant],
        "support_email": settings.SUPPORT_EMAIL,
    }
    return render(request, "signin/refused.html", context, status=403)
