from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

NUL_BYTE_MESSAGE = (
    "La requête contient un caractère nul (\\u0000), que le service n'accepte dans aucun "
    "champ. Retirez-le, puis envoyez la requête à nouveau."
)


class MethodNotAllowedPageMiddleware:
    """Replace the empty 405 responses of Django's method decorators with a French page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = render(request, "405.html", status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response


class NulByteMiddleware:
    """Return 400 with a French page when a parameter contains a NUL byte.

    PostgreSQL text columns reject NUL bytes, and no form or filter has a use for one. Under
    /api/ the answer is JSON, as every other API error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parameters = [
            *request.GET.lists(),
            *(request.POST.lists() if request.method == "POST" else []),
        ]
        if "\x00" in request.path or any(
            "\x00" in value for _, values in parameters for value in values
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_BYTE_MESSAGE}, status=400)
            return render(request, "400.html", status=400)
        return self.get_response(request)
