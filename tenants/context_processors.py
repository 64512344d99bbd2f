from django.conf import settings
from django.http import HttpRequest

from tenants.models import Structure, public_url


def structure(request: HttpRequest) -> dict[str, object]:
    """Expose the current structure (None on the public domain) to every template."""
    tenant = getattr(request, "tenant", None)
    current = tenant if isinstance(tenant, Structure) and tenant.slug else None
    return {
        "structure": current,
        "is_public_site": current is None,
        "base_domain": settings.BASE_DOMAIN,
        "public_home": public_url(),
    }
