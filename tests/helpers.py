import html

from django.http import HttpResponse


def page_text(response: HttpResponse) -> str:
    """Return the response body with HTML entities decoded, as a reader sees the text."""
    return html.unescape(response.content.decode())
