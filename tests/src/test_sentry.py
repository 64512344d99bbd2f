"""Sentry events: each one tagged with its own structure and request, without personal data.

Events go to a transport that keeps them in memory, so nothing reaches the network.
"""

from collections.abc import Iterator

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from src.sentry import init_sentry


class MemoryTransport(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [envelope.get_event() for envelope in self.envelopes if envelope.get_event()]


@pytest.fixture
def sentry_events(settings) -> Iterator[MemoryTransport]:
    settings.ROOT_URLCONF = "tests.src.urls_failing"
    transport = MemoryTransport()
    # The DSN's host is never contacted: the transport replaces the network.
    init_sentry("https://public-key@127.0.0.1/1", environment="test", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()


def _fail(site, request_id: str, query: str = "recherche=Dupont") -> None:
    client = site.client("social_worker")
    client.raise_request_exception = False
    client.cookies["suivi_extra"] = "cookie-value"
    response = client.get(
        f"/echec-de-test/?{query}",
        headers={"X-Request-ID": request_id, "Authorization": "Bearer secret-token"},
    )
    assert response.status_code == 500


def test_each_event_carries_its_own_structure_and_request(alpha, beta, sentry_events):
    _fail(alpha, "request-alpha-0001")
    _fail(beta, "request-beta-0002")

    first, second = sentry_events.events()
    assert first["tags"]["structure"] == alpha.structure.schema_name
    assert first["tags"]["request_id"] == "request-alpha-0001"
    assert second["tags"]["structure"] == beta.structure.schema_name
    assert second["tags"]["request_id"] == "request-beta-0002"


def test_tag_of_one_request_does_not_reach_next(alpha, beta, sentry_events):
    _fail(alpha, "request-alpha-0006", query="marquer=1")
    _fail(beta, "request-beta-0007")

    marked, unmarked = sentry_events.events()
    assert marked["tags"]["marked_request"] == "yes"
    assert "marked_request" not in unmarked["tags"]


def test_event_outside_request_has_no_request_id(alpha, sentry_events):
    _fail(alpha, "request-alpha-0003")

    sentry_sdk.capture_message("Job message")

    event = sentry_events.events()[-1]
    assert "request_id" not in event.get("tags", {})


def test_event_holds_no_personal_data(alpha, sentry_events):
    _fail(alpha, "request-alpha-0004")

    event = sentry_events.events()[0]
    assert set(event["request"]) <= {"method", "url"}
    assert "user" not in event
    assert "Dupont" not in str(event)
    assert "cookie-value" not in str(event)
    assert "secret-token" not in str(event)
    assert alpha.agents["social_worker"].email not in str(event)


def test_event_has_no_local_variables(alpha, sentry_events):
    _fail(alpha, "request-alpha-0005")

    frames = sentry_events.events()[0]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert all("vars" not in frame for frame in frames)
