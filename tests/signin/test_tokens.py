"""Checks of the signed JWTs, with tokens this test signs itself so each claim can be wrong."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from core.signin import provider
from core.signin.backend import ProConnectBackend, SignInFailed

ISSUER = "https://proconnect.example"
CLIENT_ID = "suivi-social"


def make_key(kid: str):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    public_jwk.update(kid=kid, use="sig", alg="RS256")
    return private, public_jwk


PROVIDER_KEY, PROVIDER_JWK = make_key("provider-key")
OTHER_KEY, _ = make_key("provider-key")


@pytest.fixture(autouse=True)
def provider_keys(monkeypatch, settings):
    settings.OIDC_OP_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_LEEWAY_SECONDS = 60
    monkeypatch.setattr(provider, "signing_keys", lambda refresh=False: [PROVIDER_JWK])


def token(key=PROVIDER_KEY, algorithm="RS256", kid="provider-key", **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "abc",
        "iat": now,
        "exp": now + 60,
        "nonce": "n-1",
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def verify(encoded: str, nonce: str | None = "n-1"):
    return ProConnectBackend().verify_jwt(encoded, nonce=nonce)


def test_valid_id_token_is_accepted():
    assert verify(token())["sub"] == "abc"


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(token(key=OTHER_KEY), id="signed-by-another-key"),
        pytest.param(token(iss="https://autre.example"), id="wrong-issuer"),
        pytest.param(token(aud="autre-client"), id="wrong-audience"),
        pytest.param(token(exp=int(time.time()) - 120), id="expired-beyond-leeway"),
        pytest.param(token(nonce="autre"), id="wrong-nonce"),
        pytest.param(token(nonce=None), id="missing-nonce"),
        pytest.param(token(exp=None), id="missing-expiry"),
        pytest.param(token(kid="unknown"), id="unknown-key"),
        pytest.param(
            token(key="a-shared-secret-long-enough-for-hs256!", algorithm="HS256"),
            id="symmetric-algorithm",
        ),
        pytest.param(jwt.encode({"sub": "abc"}, None, algorithm="none"), id="unsigned"),
        pytest.param("not-a-jwt", id="garbage"),
    ],
)
def test_bad_id_token_is_refused(encoded):
    with pytest.raises(SignInFailed) as error:
        verify(encoded)

    assert error.value.reason == "invalid_token"


def test_clock_skew_within_leeway_is_accepted():
    now = int(time.time())

    claims = verify(token(iat=now + 30, exp=now - 30))

    assert claims["sub"] == "abc"


def test_userinfo_jwt_needs_no_nonce():
    assert verify(token(nonce=None), nonce=None)["sub"] == "abc"


def test_plain_json_userinfo_is_refused(monkeypatch):
    class JsonResponse:
        status_code = 200
        headers = {"content-type": "application/json"}
        text = '{"sub": "abc", "email": "a@b.test"}'

    monkeypatch.setattr(
        provider,
        "metadata",
        lambda: provider.ProviderMetadata(ISSUER, "", "", f"{ISSUER}/me", "", ""),
    )
    monkeypatch.setattr("core.signin.backend.requests.get", lambda *args, **kwargs: JsonResponse())

    with pytest.raises(SignInFailed) as error:
        ProConnectBackend()._fetch_userinfo("access-token")

    assert "not a signed JWT" in error.value.detail
