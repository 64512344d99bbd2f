import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client
from django_tenants.utils import tenant_context

from core.models import Agent
from tenants.models import NationalUser
from tests.helpers import page_text
from tests.signin.conftest import (
    CODE_TTL_SECONDS,
    finish,
    local_path,
    sign_in_at_provider,
    start,
)

pytestmark = pytest.mark.oidc


def identity(email: str, **extra: str) -> dict[str, str]:
    return {
        "email": email,
        "given_name": "Agnès",
        "usual_name": "Testeuse",
        "siret": "21710014600019",
        "organization_label": "Mairie d'Autun",
        "idp_id": "idp-test",
        **extra,
    }


def sign_in(site, email: str, client: Client | None = None, **extra: str):
    client = client or site.client()
    callback = sign_in_at_provider(start(client), **identity(email, **extra))
    return client, finish(client, callback)


def test_invited_agent_signs_in(alpha, oidc):
    client, response = sign_in(alpha, "manager@alpha.test")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/beneficiaires/").status_code == 200


def test_email_is_compared_in_lower_case(alpha, oidc):
    client, response = sign_in(alpha, "Manager@ALPHA.test")

    assert response.status_code == 302
    assert client.get("/beneficiaires/").status_code == 200


def test_sign_in_records_provider_subject(alpha, oidc):
    sign_in(alpha, "social_worker@alpha.test")

    with tenant_context(alpha.structure):
        assert Agent.objects.get(email="social_worker@alpha.test").oidc_sub


def test_uninvited_identity_sees_why_and_whom_to_ask(alpha, oidc):
    client, response = sign_in(alpha, "inconnu@ailleurs.test")

    content = page_text(response)
    assert response.status_code == 403
    assert "aucune invitation" in content
    assert "inconnu@ailleurs.test" in content
    assert "21710014600019" in content
    assert "Mairie d'Autun" in content
    assert "responsable de votre structure" in content
    assert client.get("/beneficiaires/").status_code == 302


def test_refusal_lists_structures_where_invited(alpha, beta, oidc):
    _, response = sign_in(alpha, "manager@beta.test")

    assert response.status_code == 403
    assert "CCAS Beta" in page_text(response)


def test_deactivated_agent_is_refused_at_sign_in(alpha, oidc):
    with tenant_context(alpha.structure):
        Agent.objects.filter(email="referent@alpha.test").update(is_active=False)

    _, response = sign_in(alpha, "referent@alpha.test")

    assert response.status_code == 403
    assert "a été désactivé" in page_text(response)


def test_person_invited_in_two_structures_reaches_each(alpha, beta, oidc):
    with tenant_context(beta.structure):
        Agent.objects.create(
            email="manager@alpha.test", first_name="Manon", last_name="Double", role="instructor"
        )

    alpha_client, alpha_response = sign_in(alpha, "manager@alpha.test")
    beta_client, beta_response = sign_in(beta, "manager@alpha.test")

    assert alpha_response.status_code == 302
    assert beta_response.status_code == 302
    assert alpha_client.get("/utilisateurs/").status_code == 200
    # In beta the same person is an instructor, who does not manage agents.
    assert beta_client.get("/utilisateurs/").status_code == 404


def test_national_user_signs_in_on_public_host(db, oidc):
    NationalUser.objects.create(email="national@equipe.test")
    client = Client(HTTP_HOST="localhost")

    callback = sign_in_at_provider(start(client), **identity("national@equipe.test"))
    response = client.get(local_path(callback))

    assert response.status_code == 302
    assert client.get("/console/").status_code == 200


def test_agent_cannot_sign_in_to_national_console(alpha, oidc):
    client = Client(HTTP_HOST="localhost")

    callback = sign_in_at_provider(start(client), **identity("manager@alpha.test"))
    response = client.get(local_path(callback))

    assert response.status_code == 403
    assert client.get("/console/").status_code == 302


def test_sign_out_ends_session_and_provider_session(alpha, oidc):
    client, _ = sign_in(alpha, "manager@alpha.test")

    response = client.post("/deconnexion/")

    location = response["Location"]
    query = parse_qs(urlparse(location).query)
    assert location.startswith(oidc)
    assert query["id_token_hint"]
    assert query["post_logout_redirect_uri"] == ["http://localhost:8000/deconnexion/retour/"]
    assert query["state"][0].startswith("alpha~")
    assert client.get("/beneficiaires/").status_code == 302

    back = _confirm_logout_at_provider(location)
    relay = Client(HTTP_HOST="localhost").get(local_path(back))
    assert relay["Location"] == "http://alpha.localhost:8000/connexion/?deconnecte=1"


def _confirm_logout_at_provider(end_session_url: str) -> str:
    """Submit the provider's logout form, as its page's script does in a browser."""
    session = requests.Session()
    page = session.get(end_session_url)
    match = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert match, page.text
    action = match.group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    response = session.post(
        requests.compat.urljoin(page.url, action.replace("&amp;", "&")),
        data=hidden,
        allow_redirects=False,
    )
    for _ in range(5):
        location = response.headers["Location"]
        if location.startswith("http://localhost:8000/"):
            return location
        response = session.get(
            requests.compat.urljoin(response.url, location), allow_redirects=False
        )
    raise AssertionError("the provider did not send the browser back after logout")


def test_replayed_callback_is_refused(alpha, oidc, caplog):
    client = alpha.client()
    callback = sign_in_at_provider(start(client), **identity("manager@alpha.test"))
    finish(client, callback)
    client.post("/deconnexion/")

    response = finish(client, callback)

    assert response.status_code == 400
    assert "expiré ou a déjà été utilisée" in page_text(response)
    assert "Réessayer de me connecter" in page_text(response)
    assert any(record.levelname == "WARNING" for record in caplog.records)


def test_unknown_state_is_refused(alpha, oidc):
    response = alpha.client().get("/oidc/retour/?code=abc&state=alpha~inconnu")

    assert response.status_code == 400
    assert "expiré ou a déjà été utilisée" in page_text(response)


def test_unknown_structure_in_state_is_refused(db, oidc):
    response = Client(HTTP_HOST="localhost").get("/oidc/callback/?code=abc&state=nulle-part~x")

    assert response.status_code == 400


def test_expired_code_is_refused(alpha, oidc, caplog):
    client = alpha.client()
    callback = sign_in_at_provider(start(client), **identity("manager@alpha.test"))
    time.sleep(CODE_TTL_SECONDS + 1)

    response = finish(client, callback)

    assert response.status_code == 400
    assert "n'a pas abouti à temps" in page_text(response)
    assert "code_rejected" in caplog.text


def test_missing_email_claim_is_refused(alpha, oidc):
    client = alpha.client()
    callback = sign_in_at_provider(start(client), **identity(""))

    response = finish(client, callback)

    assert response.status_code == 400
    assert "adresse e-mail" in page_text(response)


def test_provider_error_parameter_is_shown_in_french(alpha, oidc):
    client = alpha.client()
    state = parse_qs(urlparse(start(client)).query)["state"][0]

    response = client.get("/oidc/retour/", {"error": "access_denied", "state": state})

    assert response.status_code == 400
    assert "ProConnect a interrompu la connexion" in page_text(response)


def test_provider_down_at_start_gives_french_page(alpha, settings, oidc):
    settings.OIDC_OP_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    from core.signin import provider

    provider.clear_cache()

    response = alpha.client().post("/connexion/proconnect/")

    assert response.status_code == 503
    assert "ProConnect ne répond pas" in page_text(response)


def test_provider_down_at_callback_gives_french_page(alpha, settings, oidc):
    client = alpha.client()
    callback = sign_in_at_provider(start(client), **identity("manager@alpha.test"))
    settings.OIDC_OP_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    from core.signin import provider

    provider.clear_cache()

    response = finish(client, callback)

    assert response.status_code == 503
    assert "ProConnect ne répond pas" in page_text(response)


def test_unexpected_issuer_is_refused(alpha, settings, oidc):
    client = alpha.client()
    callback = sign_in_at_provider(start(client), **identity("manager@alpha.test"))
    settings.OIDC_OP_ISSUER = "https://autre-fournisseur.example"

    response = finish(client, callback)

    assert response.status_code == 400
    assert "n'a pas pu être vérifiée" in page_text(response)
