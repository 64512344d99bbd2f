"""A tenant migration that fails in one structure's schema leaves the other structures
migrated and serving, and a rerun after the fix migrates the rest.

Runs the failure part of ``benchmarks/migrations.py`` on a private PostgreSQL cluster with
three structures, with the executor the Helm chart's migration job uses.
"""

import tempfile
from pathlib import Path

import pytest

from benchmarks.load.cluster import binaries_dir, private_cluster
from benchmarks.migrations import run

STRUCTURES = 3

pytestmark = pytest.mark.load


def test_failed_migration_then_rerun() -> None:
    try:
        binaries_dir()
    except RuntimeError as error:
        pytest.skip(str(error))
    with private_cluster() as cluster, tempfile.TemporaryDirectory() as folder:
        _, _, failure = run(cluster, STRUCTURES, Path(folder), executors=[])
    assert failure.exit_status != 0
    # Each structure is a task of its own, so only the blocked one is left unmigrated.
    assert failure.migrated_after_failure == STRUCTURES - 1
    assert failure.serving_after_failure == STRUCTURES
    assert failure.migrated_after_rerun == STRUCTURES
    assert failure.serving_after_rerun == STRUCTURES
