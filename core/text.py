"""Text normalisation shared by search and duplicate detection."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s'’\-_.,;/]+")


def normalize(text: str) -> str:
    """Return ``text`` in lower case, without accents, with separators turned into spaces.

    "Éloïse Lefèvre-Dupont" becomes "eloise lefevre dupont".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", without_accents.lower()).strip()
