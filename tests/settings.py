"""Settings for the test suite: the application's settings with test defaults."""

import os

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Every test client comes from 127.0.0.1 and the counters outlive a test, so the suite runs with
# limits it cannot reach. tests/src/test_rate_limits.py lowers them where it checks them.
os.environ.setdefault("RATE_LIMIT_SIGN_IN", "100000/m")
os.environ.setdefault("RATE_LIMIT_API", "100000/m")

from src.settings import *  # noqa: E402, F403
