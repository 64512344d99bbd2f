"""The API's request body parser: JSON, with its syntax errors reported in French."""

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class FrenchJSONParser(JSONParser):
    """DRF's JSON parser, whose error message is the English text of Python's decoder."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as error:
            # DRF raises inside its ``except ValueError`` block, so the decoder's error, with
            # its position, is the context of ``error``.
            cause = error.__context__
            if isinstance(cause, json.JSONDecodeError):
                where = f" à la ligne {cause.lineno}, colonne {cause.colno}"
            else:
                where = ""
            raise ParseError(
                f"Corps de la requête illisible{where} : envoyez un objet JSON valide, encodé "
                "en UTF-8."
            ) from None
