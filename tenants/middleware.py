import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.models import Domain, Structure

logger = logging.getLogger(__name__)


class StructureMiddleware(TenantMainMiddleware):
    """Select the structure's schema from the host, or answer with a French error page.

    An unknown host never falls back to a default structure, and a structure that is being
    provisioned or is suspended serves nothing.
    """

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        # Host names are case-insensitive; domains are stored in lower case. Unlike the parent
        # class, "www." is not stripped: it would turn www.<slug> into another structure's host.
        return request.get_host().split(":")[0].lower().rstrip(".")

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        connection.set_schema_to_public()
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return _not_found(request)

        # The apex domain is the public site; it has no structure row of its own.
        if hostname == settings.BASE_DOMAIN:
            request.tenant = connection.tenant
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None

        try:
            structure = self.get_tenant(Domain, hostname)
        except Domain.DoesNotExist:
            return _not_found(request)

        if structure.status == Structure.Status.PROVISIONING:
            return _not_found(request)
        if structure.status == Structure.Status.SUSPENDED:
            return render(
                request, "errors/structure_suspended.html", {"structure": structure}, status=403
            )

        structure.domain_url = hostname
        request.tenant = structure
        connection.set_tenant(structure)
        self.setup_url_routing(request)
        return None


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", {"unknown_host": True}, status=404)
