import html
import re

from django.http import HttpResponse


def page_text(response: HttpResponse) -> str:
    """Return the response body with HTML entities decoded, as a reader sees the text."""
    return html.unescape(response.content.decode())


def visible_text(response: HttpResponse) -> str:
    """Return the text a reader sees: tags removed, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(without_tags))
