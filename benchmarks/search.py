"""Benchmark: searching and listing the beneficiaries of one structure of N people.

Run from the repository root, with a PostgreSQL server on this machine:

    DJANGO_ENV=development .venv/bin/python benchmarks/search.py --beneficiaries 100000

The server is the one of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/suivi_social).
The script creates a scratch database and provisions one structure in it. It inserts N
synthetic beneficiaries and times the queries of the beneficiary list with and without the
trigram index. It drops the database at the end, failure or not, so the project's own database
is never touched. It prints a table and the plans of the kinds over the target, then rewrites
the "## Search" section of docs/benchmarks.md.

Each kind of query is timed until its queries are done or its time budget is spent
(--seconds-per-kind, at least 10 queries), so that a slow plan cannot stretch the run.
"""

import argparse
import json
import logging
import os
import random
import re
import secrets
import shlex
import signal
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

if not __package__:
    # Run as a script, Python puts benchmarks/ on the path instead of the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    DOCS_FILE,
    REPO_ROOT,
    bounded,
    check_docs_file,
    close_django_connections,
    machine_facts,
    one_minute_load_average,
    p95,
    render_table,
    scratch_database,
    server_url,
    write_section,
)

SECTION_TITLE = "## Search"
MAX_BENEFICIARIES = 1_000_000
BATCH_SIZE = 5_000
SEED = 71014
TARGET_MS = 50.0
TARGET_PEOPLE = 100_000
HOME_INSEE_CODE = "71014"  # Autun
# Share of the files living in the structure's own commune. The others live in the
# department's other communes, in proportion to their population.
HOME_SHARE = 0.55
NEIGHBOUR_COMMUNES = 150
INDEX_NAME = "beneficiary_search_trgm"
DEFAULT_SECONDS_PER_KIND = 10.0
MIN_QUERIES = 10

logger = logging.getLogger("benchmarks.search")
# The 1-minute load average, noted as each kind starts: other programs on the machine slow
# the figures down.
LOADS: list[float] = []


# --- Figures -------------------------------------------------------------------------------


@dataclass
class Query:
    params: dict[str, str]
    # How to tell that the file looked for is on the first page, when there is one.
    expected: Callable[[Any], bool] | None = None
    # For a typo: the misspelt word and the word it stands for.
    typo: tuple[str, str] | None = None

    @property
    def label(self) -> str:
        return " ".join(f"{key}={value!r}" for key, value in self.params.items()) or "(none)"


@dataclass
class Kind:
    key: str
    title: str
    is_search: bool
    queries: list[Query]


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)
    matches: list[int] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    missed: list[Query] = field(default_factory=list)
    slowest: Query | None = None
    slowest_ms: float = -1.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        return p95(self.samples_ms)

    @property
    def found_label(self) -> str:
        return f"{sum(self.found)}/{len(self.found)}" if self.found else "-"


@dataclass
class Result:
    kind: Kind
    with_index: Timing
    without_index: Timing
    statements: list[tuple[str, float]] = field(default_factory=list)


# --- Django ----------------------------------------------------------------------------------


def set_up_django(database_url: str) -> None:
    import django

    sys.path.insert(0, str(REPO_ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "src.settings"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    django.setup()
    # Django's logging settings raise the root level to LOG_LEVEL, so set this script's own.
    logger.setLevel(logging.INFO)


# --- The structure and its agents ----------------------------------------------------------


def provision() -> Any:
    from django.core.management import call_command
    from django.db import connection

    from core.enums import Role
    from core.models import Agent
    from tenants.communes import find_commune
    from tenants.models import Structure
    from tenants.provisioning import ManagerData, StructureData, provision_structure

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    commune = find_commune(HOME_INSEE_CODE)
    assert commune is not None, HOME_INSEE_CODE
    structure, _ = provision_structure(
        StructureData(
            slug="bench-search",
            name=f"CCAS d'{commune.name}",
            kind=Structure.Kind.CCAS,
            address=commune.town_hall_address,
            sirets=["00000001800010"],
            insee_code=commune.insee_code,
            phone=commune.town_hall_phone,
        ),
        ManagerData("responsable@bench.suivi-social.test", "Camille", "Martin"),
        send_invitation=False,
    )
    connection.set_tenant(structure)
    team = [
        (Role.SOCIAL_WORKER, "Inès", "Garnier"),
        (Role.SOCIAL_WORKER, "Paul", "Rousseau"),
        (Role.INSTRUCTOR, "Léa", "Fontaine"),
        (Role.RECEPTION_AGENT, "Hugo", "Lambert"),
        (Role.REFERENT, "Chloé", "Marchand"),
        (Role.REFERENT, "Nicolas", "Barbier"),
        (Role.REFERENT, "Sarah", "Caron"),
    ]
    for role, first_name, last_name in team:
        Agent.objects.create(
            email=f"{first_name}.{last_name}@bench.suivi-social.test".lower().replace("è", "e"),
            first_name=first_name,
            last_name=last_name,
            role=role,
        )
    return structure


# --- Synthetic beneficiaries ---------------------------------------------------------------


@dataclass
class Person:
    """One inserted file as an agent would know it, to draw the queries from."""

    file_number: str
    first_names: str
    usual_name: str
    phone: str
    city: str
    listed: bool  # not archived, so shown by the default list


class People:
    """Seeded generator of realistic files for a CCAS of Saône-et-Loire."""

    STATUSES = (("active", 70), ("inactive", 15), ("archived", 12), ("deceased", 3))

    def __init__(self, seed: int) -> None:
        from django.utils import timezone
        from faker import Faker

        from core.models.beneficiaries import FILE_NUMBER_ALPHABET, FILE_NUMBER_LENGTH
        from tenants.communes import largest_communes

        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        self.alphabet = FILE_NUMBER_ALPHABET
        self.file_number_length = FILE_NUMBER_LENGTH
        self.file_numbers: set[str] = set()
        department = [
            commune
            for commune in largest_communes(100_000)
            if commune.insee_code.startswith(HOME_INSEE_CODE[:2])
        ]
        home = next(c for c in department if c.insee_code == HOME_INSEE_CODE)
        others = [c for c in department if c is not home][:NEIGHBOUR_COMMUNES]
        total = sum(c.population for c in others)
        self.cities = [home.name] + [c.name for c in others]
        weights = [HOME_SHARE] + [(1 - HOME_SHARE) * c.population / total for c in others]
        self.city_weights = list(_accumulate(weights))
        self.statuses = [status for status, _ in self.STATUSES]
        self.status_weights = list(_accumulate([weight for _, weight in self.STATUSES]))
        self.today = timezone.localdate()

    def file_number(self) -> str:
        while True:
            number = "".join(self.rng.choices(self.alphabet, k=self.file_number_length))
            if number not in self.file_numbers:
                self.file_numbers.add(number)
                return number

    def phone(self, mobile: bool) -> str:
        digits = (self.rng.choice(["06", "07"]) if mobile else "03 85") + "".join(
            str(self.rng.randint(0, 9)) for _ in range(8 if mobile else 6)
        )
        digits = digits.replace(" ", "")
        if self.rng.random() < 0.2:
            return digits
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))

    def make(self, author: Any) -> Any:
        from core.enums import AccommodationMode, FamilySituation, Gender
        from core.models import Beneficiary

        fake, rng = self.fake, self.rng
        female = rng.random() < 0.55
        first = fake.first_name_female if female else fake.first_name_male
        first_names = first()
        if rng.random() < 0.12:
            first_names += " " + first()
        usual_name = fake.last_name()
        # Many married women go by their spouse's name and keep their birth name on file.
        birth_name = fake.last_name() if female and rng.random() < 0.4 else ""
        no_phone = rng.random() < 0.08
        phone_1 = "" if no_phone else self.phone(mobile=rng.random() < 0.75)
        phone_2 = self.phone(mobile=True) if phone_1 and rng.random() < 0.15 else ""
        city = rng.choices(self.cities, cum_weights=self.city_weights)[0]
        age_days = rng.randint(18 * 365, 95 * 365)
        beneficiary = Beneficiary(
            file_number=self.file_number(),
            status=rng.choices(self.statuses, cum_weights=self.status_weights)[0],
            civility="miss" if female else "mister",
            gender=Gender.FEMALE if female else Gender.MALE,
            first_names=first_names,
            usual_name=usual_name,
            birth_name=birth_name,
            birth_date=None if rng.random() < 0.03 else self.today - timedelta(days=age_days),
            street_number=str(rng.randint(1, 120)),
            street=fake.street_name(),
            postal_code="71400" if city == self.cities[0] else f"71{rng.randint(0, 999):03d}",
            city=city,
            no_phone=no_phone,
            phone_1=phone_1,
            phone_2=phone_2,
            family_situation=rng.choice(FamilySituation.values),
            accommodation_mode=rng.choice(AccommodationMode.values),
            created_by=author,
        )
        beneficiary.refresh_search_keys()
        return beneficiary


def _accumulate(weights: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


@dataclass
class InsertTimes:
    generate_s: float = 0.0
    files_s: float = 0.0
    links_s: float = 0.0
    analyze_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.generate_s + self.files_s + self.links_s + self.analyze_s


def insert_people(count: int) -> tuple[list[Person], InsertTimes]:
    """Insert ``count`` files with their referents and follow-up types, then ANALYZE."""
    from django.db import connection, transaction

    from core.enums import Role
    from core.models import Agent, Beneficiary, FollowupType

    agents = list(Agent.objects.exclude(role=Role.RECEPTION_AGENT).order_by("id"))
    author = agents[0]
    followup_types = list(FollowupType.objects.order_by("id"))
    people = People(SEED)
    rng = random.Random(SEED + 1)
    Referent = Beneficiary.referents.through
    Followed = Beneficiary.followup_types.through
    persons: list[Person] = []
    times = InsertTimes()
    for batch_start in range(0, count, BATCH_SIZE):
        started = time.perf_counter()
        batch = [people.make(author) for _ in range(min(BATCH_SIZE, count - batch_start))]
        times.generate_s += time.perf_counter() - started
        with transaction.atomic():
            started = time.perf_counter()
            Beneficiary.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            times.files_s += time.perf_counter() - started
            started = time.perf_counter()
            referents, followed = [], []
            for beneficiary in batch:
                draw = rng.random()
                if draw < 0.15:
                    referent_count = 2
                elif draw < 0.95:
                    referent_count = 1
                else:
                    referent_count = 0
                chosen = rng.sample(agents, referent_count)
                referents += [Referent(beneficiary_id=beneficiary.pk, agent=a) for a in chosen]
                if rng.random() < 0.5:
                    types = rng.sample(followup_types, rng.randint(1, 3))
                    followed += [
                        Followed(beneficiary_id=beneficiary.pk, followuptype=t) for t in types
                    ]
            Referent.objects.bulk_create(referents, batch_size=BATCH_SIZE)
            Followed.objects.bulk_create(followed, batch_size=BATCH_SIZE)
            times.links_s += time.perf_counter() - started
        persons += [
            Person(
                b.file_number,
                b.first_names,
                b.usual_name,
                b.phone_1,
                b.city,
                listed=b.status != "archived",
            )
            for b in batch
        ]
        if (batch_start // BATCH_SIZE) % 4 == 3 or batch_start + BATCH_SIZE >= count:
            logger.info("%d files inserted, %.0f s", batch_start + len(batch), times.total_s)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Beneficiary, Referent, Followed):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    times.analyze_s = time.perf_counter() - started
    return persons, times


def check_search_text(sample: int = 20) -> None:
    """Save a few files through the model: search_text and city_key must not change."""
    from core.models import Beneficiary

    for beneficiary in Beneficiary.objects.order_by("?")[:sample]:
        stored = beneficiary.search_text, beneficiary.city_key
        beneficiary.save(update_fields=["search_text"])
        beneficiary.refresh_from_db(fields=["search_text", "city_key"])
        assert (beneficiary.search_text, beneficiary.city_key) == stored, stored


# --- Queries -------------------------------------------------------------------------------


def plain(text: str) -> str:
    """Lower case without accents, as an agent types quickly: "Hélène" becomes "helene"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


NEIGHBOUR_KEYS = {
    "a": "zqs",
    "e": "zrd",
    "i": "uok",
    "o": "ipl",
    "u": "yij",
    "n": "bhm",
    "r": "etf",
    "t": "ryg",
    "l": "kmo",
    "s": "qdz",
    "c": "xvd",
    "d": "sfe",
    "m": "nlk",
}


def typo(word: str, rng: random.Random) -> str:
    """Return ``word`` with one slip after its first letter.

    The slip is a key beside, a letter lost, a letter doubled or two letters swapped.
    """
    positions = [i for i in range(1, len(word)) if word[i].isalpha()]
    while True:
        i = rng.choice(positions)
        action = rng.choice(["neighbour", "drop", "swap", "double"])
        if action == "neighbour":
            changed = word[:i] + rng.choice(NEIGHBOUR_KEYS.get(word[i], "aeiou")) + word[i + 1 :]
        elif action == "drop":
            changed = word[:i] + word[i + 1 :]
        elif action == "swap" and i + 1 < len(word):
            changed = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            changed = word[:i] + word[i] + word[i:]
        if changed != word:
            return changed


def same_name(first_names: str, usual_name: str) -> Callable[[Any], bool]:
    from core.text import normalize

    wanted = (normalize(first_names), normalize(usual_name))
    return lambda b: (normalize(b.first_names), normalize(b.usual_name)) == wanted


def kinds(persons: Sequence[Person], count: int) -> list[Kind]:
    rng = random.Random(SEED + 2)
    listed = [p for p in persons if p.listed]
    sample = rng.sample(listed, count)
    full_names = [
        Query(
            {"recherche": f"{plain(p.first_names)} {plain(p.usual_name)}"},
            same_name(p.first_names, p.usual_name),
        )
        for p in sample
    ]

    typos = []
    for p in rng.sample([p for p in listed if len(plain(p.usual_name)) >= 5], count):
        # The typo goes in the longest word of the name: "da silva" becomes "da silvq".
        word = max(plain(p.usual_name).replace("-", " ").split(), key=len)
        misspelt = typo(word, rng)
        query = f"{plain(p.first_names)} {plain(p.usual_name).replace(word, misspelt, 1)}"
        expected = same_name(p.first_names, p.usual_name)
        typos.append(Query({"recherche": query}, expected, typo=(misspelt, word)))

    phones = []
    for p in rng.sample([p for p in listed if p.phone], count):
        digits = p.phone.replace(" ", "")
        typed = rng.choice([digits, " ".join(digits[i : i + 2] for i in range(0, 10, 2))])
        phones.append(
            Query({"recherche": typed}, lambda b, number=p.file_number: b.file_number == number)
        )

    first_names = Counter(p.first_names.split()[0] for p in listed)
    frequent = [Query({"recherche": name}) for name, _ in first_names.most_common(count)]

    cities: list[str] = []
    for p in rng.sample(listed, len(listed)):
        if p.city not in cities:
            cities.append(p.city)
            if len(cities) == count:
                break
    # Typed as they come, in lower case without accents, or in capitals.
    spellings = [lambda c: c, plain, str.upper]
    by_city = [Query({"ville": rng.choice(spellings)(city)}) for city in cities]

    return [
        Kind("a", "a. full name, no accents", True, full_names),
        Kind("b", "b. typo in the last name", True, typos),
        Kind("c", "c. phone number", True, phones),
        Kind("d", "d. frequent first name alone", True, frequent),
        Kind("e", "e. list, no filter", False, [Query({}) for _ in range(count)]),
        Kind("f", "f. filter by city", False, by_city),
    ]


# --- Measuring -----------------------------------------------------------------------------


def fetch_page(agent: Any, params: dict[str, str]) -> tuple[int, list[Any]]:
    """Fetch the first page as beneficiary_list does: the filters, the count and 20 files."""
    from core.search import BeneficiaryFilterForm, listed_files
    from core.views.listing import paginate

    filters = BeneficiaryFilterForm(params)
    page = paginate(listed_files(agent, filters), 1, single_pass=bool(filters.query))
    return page.paginator.count, list(page.object_list)


def measure(agent: Any, kind: Kind, budget_s: float) -> Timing:
    """Warm up with the first query, then time each query until done or out of budget."""
    LOADS.append(os.getloadavg()[0])
    fetch_page(agent, kind.queries[0].params)
    timing = Timing()
    started = time.perf_counter()
    for index, query in enumerate(kind.queries):
        if index >= MIN_QUERIES and time.perf_counter() - started > budget_s:
            break
        began = time.perf_counter()
        matches, rows = fetch_page(agent, query.params)
        elapsed = (time.perf_counter() - began) * 1000
        timing.samples_ms.append(elapsed)
        timing.matches.append(matches)
        if query.expected is not None:
            timing.found.append(any(query.expected(row) for row in rows))
            if not timing.found[-1]:
                timing.missed.append(query)
        if elapsed > timing.slowest_ms:
            timing.slowest_ms, timing.slowest = elapsed, query
    return timing


class StatementLog:
    """A database execute wrapper keeping each statement, its parameters and its time."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, float]] = []

    def __call__(self, execute: Callable[..., Any], sql_text: str, params: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql_text, params, *args)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.statements.append((sql_text, params, elapsed))


Statement = tuple[str, str, Any, float]  # name, SQL, parameters, ms


def statement_name(sql_text: str) -> str:
    if sql_text.startswith("SELECT COUNT(*)"):
        return "count"
    if re.match(r'SELECT (1|%s) AS "a"', sql_text):
        return "exact check"
    if '"core_beneficiary_referents"' in sql_text:
        return "referents"
    if '"core_beneficiary_followup_types"' in sql_text:
        return "follow-up types"
    return "page"


def counting_statement(statements: Sequence[Statement]) -> str:
    """Return the name of the statement that visits every matching file.

    A search counts in its page query, so for a search that is the page.
    """
    return "count" if any(name == "count" for name, *_ in statements) else "page"


def statements_of(agent: Any, query: Query) -> list[Statement]:
    """Run ``query`` once more, keeping the time of each statement."""
    from django.db import connection

    log = StatementLog()
    with connection.execute_wrapper(log):
        fetch_page(agent, query.params)
    return [(statement_name(text), text, params, ms) for text, params, ms in log.statements]


def explain(statements: Sequence[Statement]) -> dict[str, str]:
    """EXPLAIN ANALYZE the count and page statements."""
    from django.db import connection

    plans = {}
    with connection.cursor() as cursor:
        for name, text, params, _ in statements:
            if name in ("count", "page"):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {text}", params)
                plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def planner_costs(statements: Sequence[Statement]) -> dict[str, Any]:
    """Return the planner's cost of the statement that filters every file (the separate count,
    or the page when it carries the count), and its cost without seq scans."""
    from django.db import connection, transaction

    _, text, params, _ = next(s for s in statements if s[0] == counting_statement(statements))

    def plan(cursor: Any) -> dict[str, Any]:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {text}", params)
        value = cursor.fetchone()[0]
        return (json.loads(value) if isinstance(value, str) else value)[0]["Plan"]

    with transaction.atomic(), connection.cursor() as cursor:
        chosen = plan(cursor)
        cursor.execute("SET LOCAL enable_seqscan = off")
        forced = plan(cursor)
    return {
        "chosen": chosen["Total Cost"],
        "index": forced["Total Cost"],
        "scans": [
            node["Total Cost"]
            for node in plan_nodes(forced)
            if node["Node Type"] == "Bitmap Index Scan"
        ],
    }


def execute(statement: str, params: Sequence[Any] = ()) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    return time.perf_counter() - started


def index_definition() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
            [connection.schema_name, INDEX_NAME],
        )
        return cursor.fetchone()[0]


def word_similarities(pairs: Sequence[tuple[str, str]]) -> list[float]:
    from django.db import connection

    with connection.cursor() as cursor:
        values = []
        for misspelt, word in pairs:
            cursor.execute("SELECT word_similarity(%s, %s)", [misspelt, word])
            values.append(cursor.fetchone()[0])
    return values


def database_facts() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_table_size('core_beneficiary')), "
            "pg_size_pretty(pg_relation_size(%s))",
            [f"{connection.schema_name}.{INDEX_NAME}"],
        )
        table_size, index_size = cursor.fetchone()
        names = [
            "shared_buffers",
            "work_mem",
            "random_page_cost",
            "max_parallel_workers_per_gather",
            "jit",
            "pg_trgm.word_similarity_threshold",
        ]
        cursor.execute(
            "SELECT " + ", ".join("current_setting(%s)" for _ in names),
            names,
        )
        settings = ", ".join(f"{n} {v}" for n, v in zip(names, cursor.fetchone(), strict=True))
    return {"table": table_size, "index": index_size, "settings": settings}


@dataclass
class Run:
    count: int
    insert: InsertTimes
    results: list[Result]
    plans: dict[str, dict[str, dict[str, str]]]
    recreate_index_s: float
    facts: dict[str, str]
    typo_similarities: list[float]
    costs: dict[str, dict[str, Any]]


def timings_of(statements: Sequence[Statement]) -> list[tuple[str, float]]:
    return [(name, ms) for name, _, _, ms in statements]


def run(count: int, queries: int, budget_s: float) -> Run:
    from django.db import connection

    from core.enums import Role
    from core.models import Agent

    started = time.perf_counter()
    provision()
    logger.info("Structure provisioned in %.1f s", time.perf_counter() - started)
    persons, insert = insert_people(count)
    logger.info("%d files inserted and analysed in %.1f s", count, insert.total_s)
    check_search_text()
    facts = database_facts()
    agent = Agent.objects.get(role=Role.MANAGER)
    all_kinds = kinds(persons, queries)
    plans: dict[str, dict[str, dict[str, str]]] = {"with the index": {}, "without the index": {}}

    with_index = {}
    for kind in all_kinds:
        with_index[kind.key] = timing = measure(agent, kind, budget_s)
        logger.info("With the index, %s: p95 %.1f ms", kind.title, timing.p95_ms)
    statements = {
        kind.key: statements_of(agent, with_index[kind.key].slowest) for kind in all_kinds
    }
    over = [kind for kind in all_kinds if with_index[kind.key].p95_ms >= TARGET_MS]
    costs = {}
    for kind in over:
        plans["with the index"][kind.key] = explain(statements[kind.key])
        if kind.is_search:
            costs[kind.key] = planner_costs(statements[kind.key])

    definition = index_definition()
    schema = connection.ops.quote_name(connection.schema_name)
    execute(f"DROP INDEX {schema}.{INDEX_NAME}")
    try:
        without_index = {}
        for kind in all_kinds:
            without_index[kind.key] = timing = measure(agent, kind, budget_s)
            logger.info("Without the index, %s: p95 %.1f ms", kind.title, timing.p95_ms)
    finally:
        recreate_index_s = execute(definition)
    logger.info("Index recreated in %.1f s", recreate_index_s)

    typos = [q.typo for r in with_index.values() for q in r.missed if q.typo is not None]
    results = [
        Result(
            kind, with_index[kind.key], without_index[kind.key], timings_of(statements[kind.key])
        )
        for kind in all_kinds
    ]
    return Run(
        count,
        insert,
        results,
        plans,
        recreate_index_s,
        facts,
        word_similarities(typos),
        costs,
    )


# --- Report --------------------------------------------------------------------------------


def table(results: Sequence[Result], markdown: bool) -> str:
    header = [
        "kind",
        "queries",
        "median matches",
        "found",
        "median ms",
        "p95 ms",
        "queries, no index",
        "median ms, no index",
        "p95 ms, no index",
    ]
    rows = [
        [
            r.kind.title,
            str(len(r.with_index.samples_ms)),
            f"{statistics.median(r.with_index.matches):,.0f}",
            r.with_index.found_label,
            f"{r.with_index.median_ms:.1f}",
            f"{r.with_index.p95_ms:.1f}",
            str(len(r.without_index.samples_ms)),
            f"{r.without_index.median_ms:.1f}",
            f"{r.without_index.p95_ms:.1f}",
        ]
        for r in results
    ]
    return render_table(header, rows, markdown)


def breakdown(statements: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {ms:.1f} ms" for name, ms in statements)


def print_plans(result: Run) -> None:
    for state, by_kind in result.plans.items():
        for key, plans in by_kind.items():
            for name, plan in plans.items():
                print(f"\n--- {state}, kind {key}, {name} statement of its slowest query ---")
                print(plan)


_SCAN = re.compile(
    r"(?P<node>Parallel Seq Scan|Seq Scan|Bitmap Heap Scan|Index Scan|Index Only Scan) on "
    r"core_beneficiary .*?rows=(?P<estimated>\d+) width=\d+\) "
    r"\(actual time=[\d.]+\.\.(?P<ms>[\d.]+) rows=(?P<actual>\d+) loops=(?P<loops>\d+)"
)


def scan_of(plan: str) -> dict[str, Any] | None:
    """Return the scan of core_beneficiary in ``plan``: node, rows estimated and found, ms."""
    match = _SCAN.search(plan)
    if match is None:
        return None
    loops = int(match["loops"])
    return {
        "node": match["node"],
        "estimated": int(match["estimated"]) * loops,
        "actual": int(match["actual"]) * loops,
        "ms": float(match["ms"]),
    }


def execution_ms(plan: str) -> float:
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(match.group(1)) if match else float("nan")


def verdict(result: Run) -> str:
    searches = [r for r in result.results if r.kind.is_search]
    worst = max(searches, key=lambda r: r.with_index.p95_ms)
    met = worst.with_index.p95_ms < TARGET_MS
    text = (
        f"**Target**: a search answers in under {TARGET_MS:.0f} ms at the 95th percentile with "
        f"{TARGET_PEOPLE:,} people. With {result.count:,} files it is "
        f"**{'met' if met else 'not met'}**: the slowest search kind is "
        f"{worst.kind.title[3:]} ({worst.kind.key}), {worst.with_index.p95_ms:.0f} ms at the 95th "
        "percentile."
    )
    if result.count != TARGET_PEOPLE:
        text += f" (The target is stated for {TARGET_PEOPLE:,} files.)"
    over = [
        f"{r.kind.key} ({r.with_index.p95_ms:.0f} ms)"
        for r in result.results
        if r.with_index.p95_ms >= TARGET_MS
    ]
    if over:
        text += f" Kinds over {TARGET_MS:.0f} ms at the 95th percentile: {', '.join(over)}."
    return text


METHOD = """\
`benchmarks/search.py` times the beneficiary list of one structure holding N files, with the
queries the application runs: `core.search.listed_files()` (the list's filters on the files
the agent may list, with the prefetch of referents and follow-up types) and
`core.views.listing.paginate()` for the first page of 20, count included. A search first checks
whether some files contain every word (one `EXISTS` query); if none does, it matches close
spellings by trigram similarity. It takes the total from the page query (`COUNT(*) OVER ()`),
while the list and the city filter count apart.
Each sample is the wall time of that whole page fetch, from the form to the last prefetch, for
a manager (who sees every file).

The structure is provisioned with `provision_structure()` for Autun (INSEE 71014) in a scratch
database of its own, dropped at the end. The files are inserted with `bulk_create` in batches of
5,000, `search_text` and `city_key` computed by `refresh_search_keys()`, as
`Beneficiary.save()` (checked by saving a sample again), then `ANALYZE`. They are synthetic and
seeded: Faker `fr_FR` first names (12 % with a second one) and last names, a birth name for 40 %
of the women, birth dates from 18 to 95 years, 55 % living in Autun and the others in the 150
most populated communes of Saône-et-Loire, mobile or landline phones (8 % without one, 15 % with
a second one), 12 % archived, one or two referents each and follow-up types for half of them.
Faker has about 400 last names and 215 first names, so each last name is carried by about one
file in 400, far more than most names in a real population. Searches match more files than
they would in a real structure, which makes these figures pessimistic.

Six kinds of query, 50 of each drawn from the inserted files with a fixed seed: **a** a full
name typed in lower case without accents; **b** the same with one slip (a key beside, a letter
lost, doubled or swapped) in the last name; **c** a phone number, with or without spaces; **d**
one of the 50 commonest first names alone; **e** the list without any filter; **f** the filter
by city, for 50 different communes. The first query of a kind runs once to warm the caches,
then the queries are timed one by one until all are done or the kind's time budget is spent
(at least 10 queries), so slow plans time fewer queries; with fewer than 20 samples the 95th
percentile is the slowest one. Then the trigram index `beneficiary_search_trgm` is dropped, the
same queries are timed again and the index is created again. "found" counts the queries whose
file (same name, or that phone number) is on the first page; "matches" is the paginator's
count. For the kinds over the target, the script prints the plans of the slowest query."""


def figures(result: Run, facts: dict[str, str], command: str) -> list[str]:
    insert = result.insert
    return [
        f"Command, from the repository root:\n\n    {command}",
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['postgres']} "
        f"({result.facts['settings']}), Python {facts['python']}, Django {facts['django']}, "
        f"django-tenants {facts['django_tenants']}; {facts['code']}; run on {facts['date']}. "
        f"Load average (1 min) {facts['load_before']} before the run, {facts['load_during']} "
        f"as the kinds started and {facts['load_after']} after it"
        + (
            ": other programs shared the cores, so these figures are higher than on an idle "
            "machine."
            if max(LOADS, default=0) > 1
            else "."
        ),
        f"Data: {result.count:,} files inserted in {insert.total_s:.0f} s: "
        f"{insert.generate_s:.0f} s to generate them, {insert.files_s:.0f} s of `bulk_create`, "
        f"{insert.links_s:.0f} s for referents and follow-up types, {insert.analyze_s:.1f} s of "
        f"`ANALYZE`. Table {result.facts['table']}, trigram index {result.facts['index']}, "
        f"created again in {result.recreate_index_s:.1f} s.",
        table(result.results, markdown=True),
        verdict(result),
    ]


def findings(result: Run) -> list[str]:
    by_key = {r.kind.key: r for r in result.results}
    plans = result.plans["with the index"]
    paragraphs = []

    scans = {
        key: scan
        for key, kind_plans in plans.items()
        if by_key[key].kind.is_search and (scan := scan_of(kind_plans.get("count", "")))
    }
    sequential = {key: scan for key, scan in scans.items() if "Seq Scan" in scan["node"]}
    if sequential:
        details = "; ".join(
            f"{key}: count {execution_ms(plans[key]['count']):.0f} ms, estimated "
            f"{scan['estimated']:,} rows, {scan['actual']:,} found"
            for key, scan in sequential.items()
        )
        costs = {key: result.costs[key] for key in sequential if result.costs.get(key)}
        scan_costs = [cost for c in costs.values() for cost in c["scans"]]
        without = ", ".join(f"{by_key[k].without_index.p95_ms:.0f}" for k in sequential) + " ms"
        with_ = ", ".join(f"{by_key[k].with_index.p95_ms:.0f}" for k in sequential) + " ms"
        cost_text = "; ".join(
            f"{key}: {c['chosen']:,.0f} as chosen, {c['index']:,.0f} through the index "
            f"({len(c['scans'])} bitmap index scans)"
            for key, c in costs.items()
        )
        paragraphs.append(
            "**The planner leaves the trigram index aside.** The slowest queries of "
            f"{', '.join(sequential)} are a sequential scan that evaluates `search_text LIKE "
            "'%word%' OR search_text %> 'word'` on every one of the "
            f"{result.count:,} files ({details}). The planner's costs for their count "
            f"statement, as chosen and with sequential scans disabled: {cost_text}. Both "
            "prices are off. Each bitmap index scan on `beneficiary_search_trgm` is priced "
            f"{min(scan_costs, default=0):,.0f} to {max(scan_costs, default=0):,.0f}: the "
            "planner expects to read the GIN pages holding the posting lists of every trigram "
            "of the word at `random_page_cost` 4, the default, four times a sequential page, "
            f"while this {result.facts['index']} index is in memory. The OR between `LIKE` "
            "and `%>` takes two such scans per word, so going through the index costs about "
            "twice as much as it would with one condition per word. The sequential scan, on the "
            "other hand, is priced as if `%>` were as cheap as comparing two integers: pg_trgm "
            "declares the function behind it, `word_similarity_commutator_op`, with the default "
            "COST 1, while it computes the trigrams of both strings for every row. The row "
            "estimates add noise: for `LIKE '%word%'` and `%> 'word'` the planner tests the "
            "word against the 100 histogram bounds that `ANALYZE` keeps for `search_text`, a "
            "column whose values all differ, so a word is estimated at about 10 rows or at 1, "
            "2, 3 % of the table, depending on how many of those sampled values contain it, "
            "and a single word flips to the sequential scan when its estimate is high. Without "
            f"the index their 95th percentiles are {without}, against {with_} with it: only "
            "the queries that get the index plan are fast, hence medians far below the 95th "
            "percentiles."
        )
    search_over = [
        r for r in result.results if r.kind.is_search and r.with_index.p95_ms >= TARGET_MS
    ]
    if search_over:
        lines = []
        for r in search_over:
            sql_ms = sum(ms for _, ms in r.statements)
            lines.append(
                f"- {r.kind.title}: {breakdown(r.statements)}; {sql_ms:.0f} ms of SQL in all, "
                f"against a p95 of {r.with_index.p95_ms:.0f} ms for the whole page fetch"
            )
        paragraphs.append(
            "**Where the time goes.** The statements of the slowest query of each kind over "
            "the target, run once more (a search runs an exact check, then one page query "
            "that carries the count):\n\n"
            + "\n".join(lines)
            + "\n\nWhen the SQL adds up to far less than the p95, the rest is Python (form, "
            "query building, prefetch) and waiting for a core: compare with the load average "
            "above."
        )
    list_plan = plans.get("e", {})
    if list_plan:
        scan = scan_of(list_plan.get("page", ""))
        listed = f"{scan['actual']:,} " if scan else ""
        statements = dict(by_key["e"].statements)
        paragraphs.append(
            "**The unfiltered list sorts every listed file.** No index matches "
            "`ORDER BY usual_name, birth_name, first_names, id`, so the first page is a top-N "
            f"heapsort of the {listed}files that are not archived (page statement "
            f"{statements.get('page', 0):.0f} ms), and the count reads them all again "
            f"({statements.get('count', 0):.0f} ms)."
        )
    city_plan = plans.get("f", {})
    if city_plan:
        scan = scan_of(city_plan.get("count", ""))
        estimate = (
            f" (estimated {scan['estimated']:,} rows, {scan['actual']:,} found)" if scan else ""
        )
        statements = dict(by_key["f"].statements)
        paragraphs.append(
            "**The city filter is over the target.** It compares `city_key`, the normalised "
            "city kept by `Beneficiary.save()`, through the index `beneficiary_city_order` "
            f"(count {statements.get('count', 0):.0f} ms, page "
            f"{statements.get('page', 0):.0f} ms for the slowest city, "
            f"{by_key['f'].with_index.slowest.label}){estimate}: see its plan below."
        )
    typo_result = by_key.get("b")
    if typo_result and typo_result.with_index.missed and result.typo_similarities:
        example = next(q.typo for q in typo_result.with_index.missed if q.typo)
        similarities = result.typo_similarities
        below = [value for value in similarities if value < 0.5]
        paragraphs.append(
            "**Typos.** b finds the file on the first page for "
            f"{typo_result.with_index.found_label} queries. In {len(below)} of the "
            f"{len(similarities)} misses the misspelt word's similarity with the real one "
            f"(`word_similarity`, {min(similarities):.2f} to {max(similarities):.2f}) is under "
            f'the 0.5 threshold ("{example[0]}" for "{example[1]}"): one slip in a name of five '
            "to seven letters changes two or three of its trigrams. This is about what the "
            "search finds, not about its speed."
        )
    return paragraphs


def condensed(plan: str) -> str:
    """Return the plan without its buffer and planning lines, indented as a code block."""
    kept = [
        line
        for line in plan.splitlines()
        if not line.strip().startswith(("Buffers:", "Planning:", "Worker "))
    ]
    return "\n".join("    " + line for line in kept)


def plan_sections(result: Run) -> list[str]:
    blocks = []
    for state, by_kind in result.plans.items():
        if state == "without the index":
            continue
        for key, kind_plans in by_kind.items():
            for name, plan in kind_plans.items():
                if name == "page" and key in ("a", "b", "d"):
                    continue  # the count shows the same scan
                blocks.append(f"Kind {key}, {name} statement of its slowest query, {state}:")
                blocks.append(condensed(plan))
    return ["### Plans", *blocks] if blocks else []


def render_section(result: Run, facts: dict[str, str], command: str) -> str:
    over = any(r.with_index.p95_ms >= TARGET_MS for r in result.results)
    parts = [SECTION_TITLE, METHOD, "### Figures", *figures(result, facts, command)]
    if over:
        parts += ["### Why", *findings(result), *plan_sections(result)]
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if os.environ.get("DJANGO_ENV", "development") == "production":
        sys.exit("Run the benchmark with DJANGO_ENV=development.")
    # A terminated run still drops its scratch database: SystemExit runs the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    docs_file = Path(args.docs_file)
    if not args.no_docs:
        check_docs_file(docs_file)

    url = server_url()
    facts = machine_facts(url, load=one_minute_load_average)
    started = time.perf_counter()
    name = f"suivi_social_bench_search_{secrets.token_hex(4)}"
    with scratch_database(url, name, before_drop=close_django_connections, log=logger) as database:
        logger.info("Created scratch database %s", name)
        set_up_django(database)
        result = run(args.beneficiaries, args.queries, args.seconds_per_kind)
    facts["load_after"] = one_minute_load_average()
    facts["load_during"] = f"{min(LOADS):.2f} to {max(LOADS):.2f}"

    print_plans(result)
    print()
    print(table(result.results, markdown=False))
    print()
    print(verdict(result))
    for r in result.results:
        print(f"{r.kind.title}: {breakdown(r.statements)}")
    logger.info("Whole run: %.0f s", time.perf_counter() - started)

    if not args.no_docs:
        command = ["DJANGO_ENV=development", ".venv/bin/python", "benchmarks/search.py"]
        options = recorded_options(list(argv or sys.argv[1:]))
        section = render_section(result, facts, shlex.join(command + options))
        write_section(SECTION_TITLE, section, docs_file)
        logger.info("Wrote the %s section of %s", SECTION_TITLE, docs_file)


def recorded_options(options: list[str]) -> list[str]:
    """Return the command-line options to show in the docs: all but --docs-file."""
    kept, skip = [], False
    for option in options:
        if skip or option.startswith("--docs-file="):
            skip = False
        elif option == "--docs-file":
            skip = True
        else:
            kept.append(option)
    return kept


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--beneficiaries", type=bounded(1_000, MAX_BENEFICIARIES), default=TARGET_PEOPLE
    )
    parser.add_argument("--queries", type=bounded(10, 200), default=50, help="Queries per kind.")
    parser.add_argument(
        "--seconds-per-kind",
        type=float,
        default=DEFAULT_SECONDS_PER_KIND,
        help="Time budget of each kind in each phase (default: %(default)s).",
    )
    parser.add_argument("--no-docs", action="store_true", help="Leave docs/benchmarks.md alone.")
    parser.add_argument(
        "--docs-file",
        default=str(DOCS_FILE),
        help="Page whose section to rewrite, to review it first (default: docs/benchmarks.md).",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
