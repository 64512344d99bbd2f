"""Nothing of structure A is reachable from structure B's host."""

from django.test import Client
from django_tenants.utils import tenant_context

from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text


def make_alpha_file(alpha):
    with tenant_context(alpha.structure):
        return create_beneficiary(
            alpha.agents["manager"], {"first_names": "Secret", "usual_name": "Alpha"}
        )


def test_alpha_session_cookie_is_not_valid_on_beta(alpha, beta):
    alpha_client = alpha.client("manager")
    cookie = alpha_client.cookies["sessionid"].value

    intruder = Client(HTTP_HOST=beta.host)
    intruder.cookies["sessionid"] = cookie
    response = intruder.get("/beneficiaires/")

    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_alpha_file_number_is_404_on_beta(alpha, beta):
    beneficiary = make_alpha_file(alpha)

    response = beta.client("manager").get(f"/beneficiaires/{beneficiary.file_number}/")

    assert response.status_code == 404


def test_alpha_file_is_absent_from_beta_list_and_search(alpha, beta):
    make_alpha_file(alpha)
    client = beta.client("manager")

    assert "Secret" not in page_text(client.get("/beneficiaires/"))
    assert "Secret" not in page_text(client.get("/beneficiaires/", {"recherche": "secret"}))


def test_public_session_cookie_is_not_valid_on_structure(alpha):
    from tenants.models import NationalUser
    from tests.conftest import BACKEND_PATH

    national = NationalUser.objects.create(email="national@equipe.test")
    public_client = Client(HTTP_HOST="localhost")
    public_client.force_login(national, backend=BACKEND_PATH)

    intruder = Client(HTTP_HOST=alpha.host)
    intruder.cookies["sessionid"] = public_client.cookies["sessionid"].value

    assert intruder.get("/beneficiaires/").status_code == 302
