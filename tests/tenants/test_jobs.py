"""Periodic jobs visit every active structure, and one structure's failure spares the others."""

import pytest
from django.core.management import CommandError
from django.db import connection

from tenants.jobs import for_each_active_structure
from tenants.models import Structure


def test_job_visits_active_structures_in_their_schema(alpha, beta):
    seen = []

    run = for_each_active_structure("Test job", lambda s: seen.append(connection.schema_name))

    assert seen == sorted([alpha.structure.schema_name, beta.structure.schema_name])
    assert run.processed == 2


def test_job_skips_suspended_structure(alpha, beta):
    Structure.objects.filter(pk=alpha.structure.pk).update(status=Structure.Status.SUSPENDED)
    seen = []

    run = for_each_active_structure("Test job", lambda s: seen.append(s.schema_name))

    assert seen == [beta.structure.schema_name]
    assert run.skipped == 1


def test_failure_spares_the_next_structures(alpha, beta):
    first, second = sorted([alpha.structure.schema_name, beta.structure.schema_name])
    seen = []

    def work(structure):  # type: ignore[no-untyped-def]
        if structure.schema_name == first:
            raise RuntimeError("broken structure")
        seen.append(structure.schema_name)

    run = for_each_active_structure("Test job", work)

    assert seen == [second]
    assert run.failed == [first]
    with pytest.raises(CommandError, match=first):
        run.raise_if_failed()
