"""PostgreSQL restarted under load: French 503 pages for a few seconds, then recovery without
restarting gunicorn, and no acknowledged write lost or any write duplicated.

A short version of ``benchmarks/load/run.py``: a private PostgreSQL cluster on a free port
(never the shared server), gunicorn on 127.0.0.1, 20 Locust agents over 2 structures for 30 s,
and PostgreSQL stopped for 3 s ten seconds in. Sessions are written directly in the database,
so sign-in is not exercised here (tests/signin covers it).
"""

import pytest

from benchmarks.load.cluster import binaries_dir, private_cluster
from benchmarks.load.harness import run_phase
from benchmarks.load.stack import StackOptions, load_stack

USERS = 20
DURATION_S = 30
RESTART_AFTER_S = 10
OUTAGE_S = 3

pytestmark = pytest.mark.load


@pytest.fixture(scope="module")
def restart_run():  # type: ignore[no-untyped-def]
    try:
        binaries_dir()
    except RuntimeError as error:
        pytest.skip(str(error))
    options = StackOptions(structures=2, files=200, agents_per_structure=10)
    with private_cluster() as cluster, load_stack(cluster, options) as stack:
        yield run_phase(
            stack, USERS, DURATION_S, restart_after_s=RESTART_AFTER_S, outage_s=OUTAGE_S
        )


def test_requests_fail_only_with_the_french_503_page(restart_run) -> None:  # type: ignore[no-untyped-def]
    assert restart_run.errors() == [], restart_run.errors()
    assert restart_run.outcomes()["unavailable"] > 0


def test_503_pages_stop_soon_after_postgres_is_back(restart_run) -> None:  # type: ignore[no-untyped-def]
    first, last = restart_run.unavailable_window()
    restart = restart_run.restart
    # Every 503 answers a request that met the outage: none long before or after it.
    assert first > -1
    assert last < restart.ended - restart.began + 5
    assert restart_run.recovery_s() < 5


def test_gunicorn_serves_on_without_a_restart(restart_run) -> None:  # type: ignore[no-untyped-def]
    assert restart_run.gunicorn_kept
    served_after = [
        r
        for r in restart_run.records
        if r["outcome"] == "ok" and r["start"] > restart_run.restart.ended
    ]
    assert len(served_after) > USERS


def test_restart_loses_no_write(restart_run) -> None:  # type: ignore[no-untyped-def]
    writes = restart_run.writes
    assert writes.acknowledged > 0
    assert writes.missing == []
    assert writes.duplicated == []
    assert writes.misplaced == []
