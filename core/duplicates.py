"""Finding files that probably describe the same person, before creating another one."""

from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from django.db.models import Q, QuerySet

from core.models import Beneficiary, Relative
from core.models.beneficiaries import phone_digits
from core.text import normalize

# Names at least this close (difflib ratio on normalised names) count as a close spelling:
# "Lefevre" and "Lefebvre" score 0.93, "Martin" and "Martine" 0.92, "Martin" and "Morin" 0.73.
CLOSE_SPELLING_RATIO = 0.85
MAX_CANDIDATES = 50
MAX_WARNINGS = 5


@dataclass(frozen=True)
class ProbableDuplicate:
    beneficiary: Beneficiary
    reason: str


def _names(first_names: str, usual_name: str, birth_name: str) -> list[str]:
    return [normalize(f"{first_names} {last}") for last in (usual_name, birth_name) if last.strip()]


def _household_ids(beneficiary_id: int | None) -> set[int]:
    """Return the files linked to ``beneficiary_id`` as relatives, in either direction."""
    if beneficiary_id is None:
        return set()
    linked = Relative.objects.filter(
        Q(beneficiary_id=beneficiary_id) | Q(linked_beneficiary_id=beneficiary_id)
    ).values_list("beneficiary_id", "linked_beneficiary_id")
    return {file_id for pair in linked for file_id in pair if file_id} - {beneficiary_id}


def find_probable_duplicates(
    files: QuerySet[Beneficiary],
    *,
    first_names: str,
    usual_name: str,
    birth_name: str,
    birth_date: date | None,
    phones: list[str],
    exclude_id: int | None = None,
) -> list[ProbableDuplicate]:
    """Return files that look like the same person: same or close names and birth date, or
    the same phone. Members of the file's household are never reported."""
    names = _names(first_names, usual_name, birth_name)
    digits = [phone_digits(phone) for phone in phones if len(phone_digits(phone)) >= 9]
    if not names and not digits:
        return []

    candidates = Q()
    if birth_date:
        candidates |= Q(birth_date=birth_date)
    for digit_string in digits:
        candidates |= Q(search_text__contains=digit_string)
    for name in names:
        last_word = name.split()[-1]
        candidates |= Q(search_text__trigram_word_similar=last_word)
    excluded = _household_ids(exclude_id) | ({exclude_id} if exclude_id else set())
    pool = files.filter(candidates).exclude(pk__in=excluded).exclude(status="archived")

    found = []
    for candidate in pool.order_by("id")[:MAX_CANDIDATES]:
        reason = _reason(candidate, names, birth_date, digits)
        if reason:
            found.append(ProbableDuplicate(candidate, reason))
    return found[:MAX_WARNINGS]


def _reason(
    candidate: Beneficiary, names: list[str], birth_date: date | None, digits: list[str]
) -> str:
    candidate_names = _names(candidate.first_names, candidate.usual_name, candidate.birth_name)
    same_birth_date = bool(birth_date and candidate.birth_date == birth_date)
    exact = any(name in candidate_names for name in names)
    close = any(
        SequenceMatcher(None, name, other).ratio() >= CLOSE_SPELLING_RATIO
        for name in names
        for other in candidate_names
    )
    if exact and same_birth_date:
        return "mêmes nom, prénom et date de naissance"
    if close and (same_birth_date or not birth_date or not candidate.birth_date):
        return "nom et prénom très proches" + (
            ", même date de naissance" if same_birth_date else ""
        )
    candidate_phones = {phone_digits(candidate.phone_1), phone_digits(candidate.phone_2)}
    if any(digit_string in candidate_phones for digit_string in digits):
        return "même numéro de téléphone"
    return ""
