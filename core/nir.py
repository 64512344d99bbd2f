"""The French social security number (NIR, "numéro de sécurité sociale").

Fifteen characters: sex (1 digit), year and month of birth (2 + 2), département (2, "2A" and
"2B" for Corsica), commune (3), order number (3), then a control key (2) equal to
97 - (the first 13 characters as a number, modulo 97), with 2A read as 19 and 2B as 18.
Source: Insee, "Le numéro d'inscription au répertoire (NIR)".
"""

import re

from django.core.exceptions import ValidationError

_PATTERN = re.compile(r"^[12378]\d{2}(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2[AB])\d{6}\d{2}$")


def clean_nir(value: str) -> str:
    """Return ``value`` without spaces, in upper case."""
    return re.sub(r"[\s.-]", "", value).upper()


def validate_nir(value: str) -> None:
    nir = clean_nir(value)
    if len(nir) != 15:
        raise ValidationError(
            "Le numéro de sécurité sociale comporte 15 caractères (13 chiffres et une clé de 2 "
            "chiffres). Vérifiez la saisie."
        )
    if not _PATTERN.match(nir):
        raise ValidationError(
            "Ce numéro de sécurité sociale n'a pas le bon format : il commence par 1 ou 2 "
            "(le sexe), suivi de l'année et du mois de naissance. Vérifiez la saisie."
        )
    body = nir[:13].replace("2A", "19").replace("2B", "18")
    if 97 - int(body) % 97 != int(nir[13:]):
        raise ValidationError(
            "La clé de ce numéro de sécurité sociale ne correspond pas : une erreur de frappe "
            "s'est probablement glissée. Vérifiez les 15 caractères."
        )


def mask_nir(value: str) -> str:
    """Return the number with only its first character visible, grouped as on a vitale card."""
    if not value:
        return ""
    return f"{value[0]} •• •• •• ••• ••• ••"


def format_nir(value: str) -> str:
    """Return the number grouped as on a vitale card: 1 84 03 71 014 123 45."""
    parts = [value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:]]
    return " ".join(part for part in parts if part)
