"""Settings for the test suite: the application's settings with test defaults."""

import os

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from src.settings import *  # noqa: E402, F403
