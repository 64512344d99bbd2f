from django.test import Client

from tests.helpers import as_server


def test_structure_host_trailing_dot(alpha):
    # "alpha.localhost." is the same host as "alpha.localhost", and ALLOWED_HOSTS accepts it.
    response = as_server(Client(HTTP_HOST=f"{alpha.host}.")).get("/connexion/")

    assert response.status_code == 200


def test_apex_host_trailing_dot(db):
    response = as_server(Client(HTTP_HOST="localhost.")).get("/")

    assert response.status_code == 200
