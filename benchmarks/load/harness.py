"""Run Locust against a load stack for a bounded time, optionally restart PostgreSQL during the
run, and check what the clients saw against what the database stores.

Locust runs in a child process because it monkey-patches the standard library with gevent,
which must not reach Django or pytest.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import percentile
from benchmarks.load.stack import REPO_ROOT, Stack, stored_writes

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
# Longest run the harness accepts, whatever the caller asks: the load loop is always bounded.
MAX_DURATION_S = 900
MAX_USERS = 500
# Seconds Locust gives users to finish their current request when the run time is over.
STOP_TIMEOUT_S = 10
REQUEST_KINDS = ["search", "open file", "interview form", "save interview"]


@dataclass
class Restart:
    """When the harness restarted PostgreSQL, in seconds since the epoch."""

    began: float
    ended: float


@dataclass
class WriteCheck:
    acknowledged: int
    stored: int
    missing: list[str]  # acknowledged tokens not stored in their structure
    duplicated: list[str]  # tokens stored more than once, anywhere
    misplaced: list[str]  # rows whose slug is not their schema's structure
    unacknowledged_stored: int  # writes that got an error but were committed

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.misplaced)


@dataclass
class PhaseResult:
    users: int
    duration_s: int
    records: list[dict[str, Any]]
    restart: Restart | None
    writes: WriteCheck
    gunicorn_pid_before: int
    gunicorn_alive_after: bool
    workers_before: set[int]
    workers_after: set[int]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    locust_returncode: int
    notes: list[str] = field(default_factory=list)

    def outcomes(self) -> Counter[str]:
        return Counter(record["outcome"] for record in self.records)

    def errors(self) -> list[dict[str, Any]]:
        return [record for record in self.records if record["outcome"] == "error"]

    def latencies(self) -> dict[str, dict[str, float]]:
        """Return count, median, p95 and p99 in ms per request kind, over answered requests."""
        samples: dict[str, list[float]] = defaultdict(list)
        for record in self.records:
            if record["outcome"] == "ok":
                samples[record["kind"]].append(record["ms"])
        return {
            kind: {
                "count": len(samples[kind]),
                "median": percentile(samples[kind], 50),
                "p95": percentile(samples[kind], 95),
                "p99": percentile(samples[kind], 99),
            }
            for kind in REQUEST_KINDS
            if samples[kind]
        }

    def requests_per_second(self) -> float:
        return len(self.records) / self.duration_s

    def unavailable_window(self) -> tuple[float, float] | None:
        """Return the first and last 503 page, in seconds after the restart began."""
        if self.restart is None:
            return None
        times = [r["start"] + r["ms"] / 1000 for r in self.records if r["outcome"] == "unavailable"]
        if not times:
            return None
        return min(times) - self.restart.began, max(times) - self.restart.began

    def recovery_s(self) -> float | None:
        """Return how long after the restart ended the next request started that succeeded."""
        if self.restart is None:
            return None
        later = [
            r["start"]
            for r in self.records
            if r["outcome"] == "ok" and r["start"] >= self.restart.ended
        ]
        return min(later) - self.restart.ended if later else None

    @property
    def gunicorn_kept(self) -> bool:
        """Whether gunicorn and its workers are the same processes after the run as before."""
        return self.gunicorn_alive_after and self.workers_before == self.workers_after


def run_phase(
    stack: Stack,
    users: int,
    duration_s: int,
    restart_after_s: float | None = None,
    outage_s: float = 0,
    spawn_rate: float | None = None,
) -> PhaseResult:
    """Drive ``users`` agents for ``duration_s`` seconds, then check the stored writes.

    With ``restart_after_s``, PostgreSQL restarts that many seconds into the run and stays
    stopped for ``outage_s`` seconds.
    """
    if not 1 <= users <= MAX_USERS:
        raise ValueError(f"users must be between 1 and {MAX_USERS}")
    if not 1 <= duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be between 1 and {MAX_DURATION_S} s")
    slugs = [structure["slug"] for structure in stack.manifest["structures"]]
    already_stored = {
        token for rows in stored_writes(stack.database_url, slugs).values() for _, token in rows
    }
    workers_before = stack.worker_pids()
    load_before = os.getloadavg()
    restart: list[Restart] = []
    with tempfile.TemporaryDirectory(prefix="suivi-locust-") as folder:
        records_file = Path(folder) / "records.json"
        environment = {
            **os.environ,
            "LOAD_MANIFEST": str(stack.manifest_file),
            "LOAD_RECORDS": str(records_file),
        }
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--only-summary",
            "--loglevel=ERROR",
            f"--users={users}",
            # All users within about 5 s unless told otherwise.
            f"--spawn-rate={spawn_rate or max(1, users / 5)}",
            f"--run-time={duration_s}s",
            f"--stop-timeout={STOP_TIMEOUT_S}",
            f"--host={stack.base_url}",
        ]
        locust = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        restarter = None
        if restart_after_s is not None:
            restarter = threading.Thread(
                target=_restart_later,
                args=(stack, restart_after_s, outage_s, restart),
                daemon=True,
            )
            restarter.start()
        try:
            _, stderr = locust.communicate(timeout=duration_s + STOP_TIMEOUT_S + 60)
        except subprocess.TimeoutExpired:
            locust.kill()
            raise
        if restarter is not None:
            restarter.join()
        if not records_file.exists():
            raise RuntimeError(
                f"Locust wrote no records (exit {locust.returncode}):\n{stderr[-3000:]}"
            )
        records = json.loads(records_file.read_text())
    writes = check_writes(stack, slugs, records, already_stored)
    return PhaseResult(
        users=users,
        duration_s=duration_s,
        records=records,
        restart=restart[0] if restart else None,
        writes=writes,
        gunicorn_pid_before=stack.gunicorn.pid,
        gunicorn_alive_after=stack.gunicorn.poll() is None,
        workers_before=workers_before,
        workers_after=stack.worker_pids(),
        load_before=load_before,
        load_after=os.getloadavg(),
        locust_returncode=locust.returncode,
    )


def _restart_later(stack: Stack, delay_s: float, outage_s: float, restart: list[Restart]) -> None:
    time.sleep(delay_s)
    began = time.time()
    stack.cluster.restart(outage_s)
    restart.append(Restart(began, time.time()))


def check_writes(
    stack: Stack, slugs: list[str], records: list[dict[str, Any]], already_stored: set[str]
) -> WriteCheck:
    """Compare the writes the clients saw acknowledged with the interviews stored."""
    stored = stored_writes(stack.database_url, slugs)
    counts: Counter[str] = Counter()
    placed: dict[str, str] = {}
    misplaced = []
    for schema_slug, rows in stored.items():
        for row_slug, token in rows:
            if token in already_stored:
                continue
            counts[token] += 1
            placed[token] = schema_slug
            if row_slug != schema_slug:
                misplaced.append(f"{token} ({row_slug} stored in {schema_slug})")
    attempted = {r["token"]: r for r in records if r["kind"] == "save interview" and "token" in r}
    acknowledged = {token: r for token, r in attempted.items() if r["outcome"] == "ok"}
    return WriteCheck(
        acknowledged=len(acknowledged),
        stored=sum(counts.values()),
        missing=[
            token
            for token, record in acknowledged.items()
            if counts[token] == 0 or placed.get(token) != record["slug"]
        ],
        duplicated=[token for token, count in counts.items() if count > 1],
        misplaced=misplaced,
        unacknowledged_stored=sum(1 for token in counts if token not in acknowledged),
    )
