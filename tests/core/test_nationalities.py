"""Checks on the nationality choices. They need no database."""

import re
import unicodedata

from core.nationalities import NATIONALITY_CHOICES

STATELESS = ("XXA", "Apatride")
LABEL_PATTERN = re.compile(r"^[A-ZÀ-Ý][^()]+ \(.+\)$")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def test_codes_are_unique():
    codes = [code for code, _ in NATIONALITY_CHOICES]
    assert len(codes) == len(set(codes))


def test_codes_are_three_uppercase_letters():
    for code, _ in NATIONALITY_CHOICES:
        assert re.fullmatch(r"[A-Z]{3}", code), code


def test_france_comes_first():
    assert NATIONALITY_CHOICES[0] == ("FRA", "Française (France)")


def test_stateless_comes_last():
    assert NATIONALITY_CHOICES[-1] == STATELESS


def test_at_least_195_entries():
    assert len(NATIONALITY_CHOICES) >= 195


def test_country_labels_read_adjective_then_country():
    for code, label in NATIONALITY_CHOICES:
        if (code, label) != STATELESS:
            assert LABEL_PATTERN.match(label), label


def test_countries_sorted_ignoring_accents():
    labels = [label for _, label in NATIONALITY_CHOICES[1:-1]]
    assert labels == sorted(labels, key=lambda label: strip_accents(label).casefold())


def test_labels_of_countries_with_official_names():
    choices = dict(NATIONALITY_CHOICES)
    assert choices["DZA"] == "Algérienne (Algérie)"
    assert choices["DEU"] == "Allemande (Allemagne)"
    assert choices["USA"] == "Américaine (États-Unis)"
    assert choices["GBR"] == "Britannique (Royaume-Uni)"
    assert choices["CIV"] == "Ivoirienne (Côte d'Ivoire)"
    assert choices["COM"] == "Comorienne (Comores)"
    assert choices["KOR"] == "Sud-Coréenne (Corée du Sud)"
    assert choices["PRK"] == "Nord-Coréenne (Corée du Nord)"
    assert choices["COG"] == "Congolaise (Congo)"
    assert choices["COD"] == "Congolaise (République démocratique du Congo)"


def test_states_outside_the_united_nations_are_listed():
    codes = {code for code, _ in NATIONALITY_CHOICES}
    assert {"XKX", "PSE", "TWN", "VAT"} <= codes
