"""Typed readers for settings taken from the environment.

Each reader also accepts a ``<NAME>_FILE`` variable that points to a file holding the value,
so secrets can be mounted as files (Kubernetes Secrets, Docker secrets).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()


def read(name: str, default: object = _MISSING) -> str:
    """Return the variable ``name``, read from ``name_FILE`` when that one is set."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()

    value = os.environ.get(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise ImproperlyConfigured(f"The environment variable {name} (or {name}_FILE) is required.")
    return str(default)


def read_bool(name: str, default: bool) -> bool:
    value = read(name, "1" if default else "0").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}.")


def read_int(name: str, default: int) -> int:
    value = read(name, str(default))
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from error


def read_positive_int(name: str, default: int) -> int:
    value = read_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be a positive integer (1 or more), got {value}.")
    return value


def read_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated variable as a list, without empty items."""
    return [item.strip() for item in read(name, default).split(",") if item.strip()]
