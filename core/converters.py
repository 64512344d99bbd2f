from core.models.beneficiaries import FILE_NUMBER_ALPHABET, FILE_NUMBER_LENGTH


class FileNumberConverter:
    """A file number in a URL, in either case; anything else is not a file URL (404)."""

    regex = f"[{FILE_NUMBER_ALPHABET}{FILE_NUMBER_ALPHABET.lower()}]{{{FILE_NUMBER_LENGTH}}}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value
