"""The communes referential used by the demo and the benchmarks."""

from tenants.communes import find_commune, neighbouring_communes


def test_official_name_keeps_its_article():
    assert find_commune("71153").name == "Le Creusot"


def test_postal_code_comes_from_the_town_hall():
    assert find_commune("71014").postal_code == "71400"


def test_neighbours_share_the_department():
    autun = find_commune("71014")

    neighbours = neighbouring_communes(autun, 5)

    assert len(neighbours) == 5
    assert all(commune.insee_code.startswith("71") for commune in neighbours)
    assert autun not in neighbours
