"""Searching, filtering and sorting the beneficiary list."""

from datetime import date

from django import forms
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import (
    Case,
    Expression,
    FloatField,
    Prefetch,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.db.models.lookups import Contains
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from core.access import beneficiaries_for
from core.enums import AGE_BRACKETS, BeneficiaryStatus
from core.models import Agent, Beneficiary, FollowupType
from core.models.beneficiaries import phone_digits
from core.roles import Action
from core.text import normalize

# Tokens shorter than this are matched as substrings only: trigrams of one or two letters
# match almost everything.
MIN_FUZZY_TOKEN_LENGTH = 3
MAX_QUERY_LENGTH = 100

SORTS = {
    "nom": ["usual_name", "birth_name", "first_names", "id"],
    "prenom": ["first_names", "usual_name", "id"],
    "age": ["-birth_date", "id"],
    "ville": ["city", "usual_name", "id"],
    "statut": ["status", "usual_name", "id"],
    "dossier": ["file_number"],
}


def search_tokens(query: str) -> list[str]:
    """Split the query into normalised words; digits of a phone number are joined."""
    text = normalize(query)
    compact = text.replace(" ", "").lstrip("+")
    if compact.isdigit():
        # A phone number, typed with spaces, dots or the +33 prefix: match its digits.
        return [phone_digits(query)]
    return text.split()


def search_beneficiaries(
    files: QuerySet[Beneficiary], query: str, *, close_spellings: bool = False
) -> tuple[QuerySet[Beneficiary], bool]:
    """Keep the files whose names, file number or phone contain every word of ``query``.

    Case, accents and hyphens are ignored: "eloise lefevre" finds "Éloïse Lefèvre-Dupont".
    When no file contains every word, or when ``close_spellings`` is set, words with a small
    typo match too: "lefebvre" then finds "Lefèvre". Returns the files and whether close
    spellings were searched.
    """
    tokens = search_tokens(query)
    exact = files
    for token in tokens:
        exact = exact.filter(search_text__contains=token)
    if not close_spellings and exact.exists():
        return exact.annotate(relevance=_word_matches(tokens)), False
    return _close_spellings(files, tokens), True


def _word_matches(tokens: list[str]) -> Expression:
    """Score each file by how its words match the tokens: 2 for a whole word, 1 for its start.

    Cheaper than a trigram similarity, it ranks "Marc" before "Marcel" for "marc".
    """
    padded = Concat(Value(" "), "search_text", Value(" "), output_field=TextField())
    scores = [
        Case(
            When(Contains(padded, f" {token} "), then=Value(2.0)),
            When(Contains(padded, f" {token}"), then=Value(1.0)),
            default=Value(0.0),
            output_field=FloatField(),
        )
        for token in tokens
    ]
    if not scores:
        return Value(0.0, FloatField())
    return sum(scores[1:], scores[0])


def _close_spellings(files: QuerySet[Beneficiary], tokens: list[str]) -> QuerySet[Beneficiary]:
    """Keep the files that have a word close to each token, exact words first.

    A word of 3 letters or more matches by trigram similarity only. With a `LIKE` beside it,
    PostgreSQL cannot combine the words in one scan of the trigram index, so it checks every
    file matching one word against the others. Shorter words and digits must be contained.
    """
    similarities = []
    for token in tokens:
        if len(token) >= MIN_FUZZY_TOKEN_LENGTH and not token.isdigit():
            files = files.filter(search_text__trigram_word_similar=token)
            similarities.append(TrigramWordSimilarity(Value(token), "search_text"))
        else:
            files = files.filter(search_text__contains=token)
    return files.annotate(relevance=sum(similarities, _word_matches(tokens)))


class BeneficiaryFilterForm(DsfrBaseForm):
    recherche = forms.CharField(
        label="Rechercher un bénéficiaire",
        required=False,
        help_text="Nom, prénom, numéro de dossier ou téléphone, avec ou sans accents.",
    )
    statut = forms.ChoiceField(
        label="Statut du dossier",
        required=False,
        choices=[("", "Tous sauf archivés"), *BeneficiaryStatus.choices],
    )
    referent = forms.ModelChoiceField(
        label="Agent référent",
        required=False,
        queryset=Agent.objects.all(),
        empty_label="Tous",
    )
    age = forms.ChoiceField(
        label="Tranche d'âge",
        required=False,
        choices=[("", "Toutes")] + [(code, label) for code, label, _, _ in AGE_BRACKETS],
    )
    ville = forms.CharField(label="Ville", required=False, max_length=150)
    accompagnement = forms.ModelChoiceField(
        label="Accompagnement",
        required=False,
        queryset=FollowupType.objects.all(),
        empty_label="Tous",
    )
    approchant = forms.BooleanField(
        label="Inclure les orthographes proches",
        required=False,
        help_text="Trouve aussi « Lefèvre » quand vous tapez « Lefebvre ».",
    )
    tri = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])
    ordre = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])

    # Set by apply(): whether the search included close spellings.
    close_spellings = False

    def clean_recherche(self) -> str:
        # A longer query is cut to this length rather than ignored.
        return self.cleaned_data["recherche"][:MAX_QUERY_LENGTH]

    @property
    def query(self) -> str:
        """The search words, or "" when none was typed or the form is invalid."""
        return self.cleaned_data.get("recherche", "") if self.is_valid() else ""

    def apply(self, files: QuerySet[Beneficiary]) -> QuerySet[Beneficiary]:
        """Return ``files`` filtered and sorted by the form's values; invalid values are ignored."""
        values = self.cleaned_data if self.is_valid() else {}
        status = values.get("statut")
        files = files.filter(status=status) if status else files.exclude(status="archived")
        if values.get("referent"):
            files = files.filter(referents=values["referent"])
        if values.get("age"):
            files = files.filter(_age_bracket_filter(values["age"], timezone.localdate()))
        if values.get("ville"):
            files = files.filter(city_key=normalize(values["ville"]))
        if values.get("accompagnement"):
            files = files.filter(followup_types=values["accompagnement"])
        if values.get("recherche"):
            files, self.close_spellings = search_beneficiaries(
                files, values["recherche"], close_spellings=values.get("approchant", False)
            )
        return files.order_by(*self._ordering(values))

    def _ordering(self, values: dict) -> list[str]:  # type: ignore[type-arg]
        sort = values.get("tri")
        if not sort and values.get("recherche"):
            return ["-relevance", *SORTS["nom"]]
        fields = SORTS.get(sort or "nom", SORTS["nom"])
        if values.get("ordre") == "desc":
            return [field[1:] if field.startswith("-") else f"-{field}" for field in fields]
        return fields


def listed_files(agent: Agent, filters: BeneficiaryFilterForm) -> QuerySet[Beneficiary]:
    """Return the files ``agent`` may list, filtered and sorted by ``filters``, with their
    rows' data."""
    files = filters.apply(beneficiaries_for(agent, Action.LIST_BENEFICIARIES))
    return files.prefetch_related(
        Prefetch("referents", queryset=Agent.objects.order_by("last_name", "id")),
        "followup_types",
    )


def _age_bracket_filter(code: str, today: date) -> Q:
    _, _, youngest, oldest = next(bracket for bracket in AGE_BRACKETS if bracket[0] == code)
    # Born after this date: younger than ``oldest + 1``; born on or before: at least ``youngest``.
    latest_birth = _years_before(today, youngest)
    earliest_birth = _years_before(today, oldest + 1)
    return Q(birth_date__lte=latest_birth, birth_date__gt=earliest_birth)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)
