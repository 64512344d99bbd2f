"""Rate limits on sign-in and on the APIs, counted per client IP address in the shared cache.

Limits are read from settings on each request: ``RATE_LIMIT_SIGN_IN`` for the ProConnect start,
relay and callback views, ``RATE_LIMIT_API`` for every address under /api/ (the structure's
API and the national API). A client over its limit gets 429 with a Retry-After header, as a
French page or, under /api/, as French JSON.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)

SIGN_IN_VIEW_NAMES = {"sign_in_start", "oidc_callback_relay", "oidc_callback"}


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        limit = _limit_for(request)
        if limit is None:
            return None

        group, rate = limit
        usage = get_usage(request, group=group, key=client_address, rate=rate, increment=True)
        if usage is None or not usage["should_limit"]:
            return None

        # The client's address is personal data, so only the limit is logged.
        logger.warning("Rate limit %s (%s) reached", group, rate)
        return _too_many_requests(request, rate, max(usage["time_left"], 1))


def client_address(group: str, request: HttpRequest) -> str:
    """Return the client's IP address, read from X-Forwarded-For behind trusted proxies.

    Each trusted proxy appends the address it received the request from, so the client's is
    the TRUSTED_PROXY_COUNT-th from the end. Addresses further left are the client's to forge.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
        if len(addresses) >= proxies:
            return addresses[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _limit_for(request: HttpRequest) -> tuple[str, str] | None:
    match = request.resolver_match
    if match is not None and match.url_name in SIGN_IN_VIEW_NAMES:
        return "sign_in", settings.RATE_LIMIT_SIGN_IN
    if request.path_info.startswith("/api/"):
        return "api", settings.RATE_LIMIT_API
    return None


def _too_many_requests(request: HttpRequest, rate: str, wait: int) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        message = (
            f"Trop de requêtes en peu de temps (limite : {_rate_in_french(rate)}). "
            f"Attendez {wait} secondes avant de réessayer."
        )
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "429.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _rate_in_french(rate: str) -> str:
    count, period = rate.split("/")
    units = {"s": "seconde", "m": "minute", "h": "heure", "d": "jour"}
    multiplier, unit = period[:-1], units[period[-1]]
    if multiplier and multiplier != "1":
        return f"{count} requêtes toutes les {multiplier} {unit}s"
    return f"{count} requêtes par {unit}"
