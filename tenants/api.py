"""The small public API of the ``tenants`` app that structure-side code may use."""

from django.db import connection

from tenants.models import DirectoryEntry, Structure


def current_structure() -> Structure:
    """Return the structure whose schema the connection is set to."""
    tenant = connection.tenant
    if not isinstance(tenant, Structure):
        raise RuntimeError("No structure is active on this connection.")
    return tenant


def sync_directory(email: str, is_active: bool, previous_email: str | None = None) -> None:
    """Record in the public directory that ``email`` is invited in the current structure.

    Runs in the caller's transaction: the agent row and its directory entry change together.
    """
    structure = current_structure()
    if previous_email and previous_email != email:
        DirectoryEntry.objects.filter(email=previous_email, structure=structure).delete()
    DirectoryEntry.objects.update_or_create(
        email=email, structure=structure, defaults={"is_active": is_active}
    )


def structures_inviting(email: str) -> list[Structure]:
    """Return the active structures where ``email`` is invited as an active agent."""
    return list(
        Structure.objects.filter(
            directory__email=email.lower(),
            directory__is_active=True,
            status=Structure.Status.ACTIVE,
        ).order_by("name")
    )


STRUCTURE_DETAIL_FIELDS = ["name", "address", "phone", "email"]


def update_structure_details(values: dict[str, str]) -> dict[str, list[str]]:
    """Change the current structure's contact details; return {field: [old, new]}."""
    structure = current_structure()
    changes = {}
    for name in STRUCTURE_DETAIL_FIELDS:
        if name in values and getattr(structure, name) != values[name]:
            changes[name] = [getattr(structure, name), values[name]]
            setattr(structure, name, values[name])
    if changes:
        structure.full_clean()
        structure.save(update_fields=list(changes))
    return changes
