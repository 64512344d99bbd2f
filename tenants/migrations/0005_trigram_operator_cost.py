from django.db import migrations

# pg_trgm declares the function behind "%>" with PostgreSQL's default cost of 1, while it costs
# about 10 microseconds per row: the planner then prefers scanning a whole table of files to
# the trigram index (measured by benchmarks/search.py). An extension update resets this, which
# tests/core/test_search_plan.py would reveal.
FUNCTION = "public.word_similarity_commutator_op(text, text)"


class Migration(migrations.Migration):
    dependencies = [("tenants", "0004_national_statistics")]

    operations = [
        migrations.RunSQL(
            f"ALTER FUNCTION {FUNCTION} COST 100;",
            reverse_sql=f"ALTER FUNCTION {FUNCTION} COST 1;",
        ),
    ]
