"""Locust users for the load and fault runs: agents searching, opening files and saving interviews.

Started by ``benchmarks/load/run.py`` (and tests/faults), never by hand: it reads the stack's
manifest from ``LOAD_MANIFEST`` and writes one record per request to ``LOAD_RECORDS`` when
Locust quits. Each user takes the next agent of the manifest, so users spread evenly over the
structures, and sends that agent's session cookie with the structure's Host header to
gunicorn on 127.0.0.1.

Each interview it saves carries "[<structure slug>] <client token>" in its synthesis, a token
new for every attempt. A save counts as acknowledged only when the server answered with the
redirect to the new interview. Clients never retry a write, so the checks can tell a lost
write from a duplicated one.
"""

import itertools
import json
import os
import random
import secrets
import string
import time
from datetime import datetime
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from locust import HttpUser, between, events, task

MANIFEST = json.loads(Path(os.environ["LOAD_MANIFEST"]).read_text())
RECORDS: list[dict[str, Any]] = []
# Agents in the order users take them: the first agent of each structure, then the second...
AGENTS = itertools.cycle(
    [
        (structure, structure["sessions"][rank])
        for rank in range(max(len(s["sessions"]) for s in MANIFEST["structures"]))
        for structure in MANIFEST["structures"]
        if rank < len(structure["sessions"])
    ]
)
WAIT_MIN_S = float(os.environ.get("LOAD_WAIT_MIN_S", "1"))
WAIT_MAX_S = float(os.environ.get("LOAD_WAIT_MAX_S", "3"))
REQUEST_TIMEOUT_S = 30
# The French page of src/templates/503.html, served when the database does not answer.
UNAVAILABLE_TITLE = "Service momentanément indisponible"
# The TIME_ZONE of src/settings.py: an interview dated after today in Paris is rejected.
SERVICE_TIME_ZONE = ZoneInfo("Europe/Paris")
CSRF_ALPHABET = string.ascii_letters + string.digits


class NoCookies(DefaultCookiePolicy):
    """Keep requests' cookie jar empty: each request sends the agent's cookies explicitly."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


class Agent(HttpUser):
    wait_time = between(WAIT_MIN_S, WAIT_MAX_S)

    def on_start(self) -> None:
        structure, session_key = next(AGENTS)
        self.structure = structure
        self.client.cookies.set_policy(NoCookies())
        # Django accepts a CSRF secret of 32 letters and digits as both cookie and form field.
        self.csrf = "".join(secrets.choice(CSRF_ALPHABET) for _ in range(32))
        self.headers = {
            "Host": f"{structure['host']}:{MANIFEST['port']}",
            "Cookie": f"sessionid={session_key}; csrftoken={self.csrf}",
        }

    def send(
        self, kind: str, method: str, path: str, expected: int, token: str = "", **kwargs: Any
    ) -> str:
        """Send one request and record its outcome: ok, unavailable (the French 503) or error."""
        started = time.time()
        status, body, location = 0, "", ""
        with self.client.request(
            method,
            path,
            name=kind,
            headers=self.headers,
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_S,
            catch_response=True,
            **kwargs,
        ) as response:
            status = response.status_code or 0
            location = response.headers.get("Location", "") if status else ""
            body = response.text if status and status != expected else ""
            if not status:
                # No HTTP answer: the connection failed, was reset or timed out.
                body = repr(response.error)
            if status == expected and (expected != 302 or "#entretien-" in location):
                outcome = "ok"
                response.success()
            elif status == 503 and UNAVAILABLE_TITLE in body:
                outcome = "unavailable"
                response.failure("503 (French page)")
            else:
                outcome = "error"
                response.failure(f"{status} {location or body[:200]!r}")
        RECORDS.append(
            {
                "kind": kind,
                "start": started,
                "ms": (time.time() - started) * 1000,
                "status": status,
                "outcome": outcome,
                "slug": self.structure["slug"],
                **({"token": token} if token else {}),
                **({"detail": (location or body)[:300]} if outcome == "error" else {}),
            }
        )
        return outcome

    @task(3)
    def search(self) -> None:
        name = random.choice(self.structure["files"])["name"]
        self.send("search", "GET", "/beneficiaires/", 200, params={"recherche": name.lower()})

    @task(3)
    def open_file(self) -> None:
        number = random.choice(self.structure["files"])["file_number"]
        self.send("open file", "GET", f"/beneficiaires/{number}/", 200)

    @task(1)
    def save_interview(self) -> None:
        number = random.choice(self.structure["files"])["file_number"]
        path = f"/accompagnements/entretiens/nouveau/?dossier={number}"
        if self.send("interview form", "GET", path, 200) != "ok":
            return
        token = secrets.token_hex(16)
        slug = self.structure["slug"]
        data = {
            "csrfmiddlewaretoken": self.csrf,
            "date": datetime.now(SERVICE_TIME_ZONE).date().isoformat(),
            "medium": "phone_call",
            "followup_types": [random.choice(self.structure["followup_types"])],
            "status": "done",
            "synthesis": f"[{slug}] {token} Entretien téléphonique de suivi, test de charge.",
        }
        self.send("save interview", "POST", path, 302, token=token, data=data)


@events.quitting.add_listener
def write_records(environment: Any, **kwargs: Any) -> None:
    Path(os.environ["LOAD_RECORDS"]).write_text(json.dumps(RECORDS))
