"""The planner must see the trigram operator as costly, or it scans the whole table of files
instead of using the trigram index (measured by benchmarks/search.py)."""

from django.db import connection


def test_trigram_operator_declares_its_cost(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT procost FROM pg_proc WHERE proname = 'word_similarity_commutator_op'"
        )
        (cost,) = cursor.fetchone()

    assert cost >= 100


def test_connections_prefer_index_reads(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        (cost,) = cursor.fetchone()

    assert float(cost) <= 1.1
