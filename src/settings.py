"""Django settings for Suivi Social, read from the environment (see docs/environment.md).

Development defaults apply only when ``DJANGO_ENV`` is ``development`` or ``test``; in
production every required value must be set or start-up fails.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from src import env

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENT = env.read("DJANGO_ENV", "production")
IS_PRODUCTION = ENVIRONMENT == "production"
DEV_DEFAULTS = not IS_PRODUCTION


def _dev_default(value: str) -> object:
    """Return ``value`` as a default outside production, and no default in production."""
    return value if DEV_DEFAULTS else env._MISSING


DEBUG = env.read_bool("DJANGO_DEBUG", False)
SECRET_KEY = env.read("DJANGO_SECRET_KEY", _dev_default("dev-only-secret-key-not-for-production"))

# The apex domain serves the national console; each structure is served at <slug>.<BASE_DOMAIN>.
BASE_DOMAIN = env.read("BASE_DOMAIN", _dev_default("localhost"))
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env.read_list("DJANGO_EXTRA_ALLOWED_HOSTS")]
PUBLIC_URL_SCHEME = env.read("PUBLIC_URL_SCHEME", "https" if IS_PRODUCTION else "http")
# Port appended to the URLs the application builds for other hosts (links in e-mails, the
# sign-in relay), empty when the service is reached on the scheme's default port.
PUBLIC_URL_PORT = env.read("PUBLIC_URL_PORT", "" if IS_PRODUCTION else "8000")

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.postgres",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "widget_tweaks",
    "dsfr",
    "rest_framework",
    "drf_spectacular",
]
TENANT_APPS = [
    "django.contrib.sessions",
    "core",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Structure"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "src.urls_public"
ROOT_URLCONF = "src.urls_tenant"
AUTH_USER_MODEL = "core.Agent"

# The request id and the health probes come before the structure is looked up: probes reach a
# pod by its IP address, which is no structure's host. The database outage page wraps every
# middleware that may query the database, and the security headers wrap that page.
MIDDLEWARE = [
    "src.middleware.RequestIdMiddleware",
    "src.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "src.middleware.DatabaseUnavailableMiddleware",
    "tenants.middleware.StructureMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "src.middleware.MethodNotAllowedPageMiddleware",
    "src.middleware.NulByteMiddleware",
    "src.rate_limits.RateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "src" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.structure",
                "core.context_processors.permissions",
                "core.context_processors.unread_notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "src.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env.read("DATABASE_URL", _dev_default("postgres://postgres@127.0.0.1:5432/suivi_social")),
        engine="django_tenants.postgresql_backend",
        conn_max_age=env.read_int("DATABASE_CONN_MAX_AGE", 60),
        # A kept connection is checked at the start of each request, so one that PostgreSQL
        # closed (a restart, a failover) is replaced instead of failing the request.
        conn_health_checks=True,
    )
}
# When PostgreSQL does not accept a connection within this many seconds, the request fails with
# the 503 page instead of holding a gunicorn worker until the worker timeout.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.read_int(
    "DATABASE_CONNECT_TIMEOUT_SECONDS", 5
)
# Maximum time the readiness probe waits for its "SELECT 1", in milliseconds.
HEALTH_CHECK_STATEMENT_TIMEOUT_MS = env.read_int("HEALTH_CHECK_STATEMENT_TIMEOUT_MS", 2000)
# Name search tolerates typos through pg_trgm's "%>" operator, whose threshold is a setting:
# 0.5 finds "lefebvre" for "Lefèvre" (0.55) and "eloize" for "Éloïse" (0.57), where the
# default 0.6 does not. random_page_cost=1.1, PostgreSQL's advice for SSD storage, lets the
# planner prefer the trigram index to a full scan (benchmarks/search.py, docs/benchmarks.md).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    "-c pg_trgm.word_similarity_threshold=0.5 -c random_page_cost=1.1"
)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Set the search_path once per connection and tenant switch, not before every query.
TENANT_LIMIT_SET_CALLS = True
# Structures that `migrate_schemas --tenant --executor=multiprocessing` migrates at once, each in
# a forked process with its own database connection.
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.read_positive_int("MIGRATION_PROCESSES", 4)
# Structures handed to a process at a time. A migration that fails skips the structures after
# it in the same batch, so batches of one leave every other structure migrated.
TENANT_MULTIPROCESSING_CHUNKS = 1
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["core.signin.backend.ProConnectBackend"]
LOGIN_URL = "/connexion/"
LOGIN_REDIRECT_URL = "/"

# ProConnect (OpenID Connect). One client serves every structure: the only redirect URI
# registered at the provider is OIDC_CALLBACK_URL on the public domain.
OIDC_OP_ISSUER = env.read("OIDC_OP_ISSUER", _dev_default("http://localhost:9000"))
OIDC_OP_DISCOVERY_URL = env.read(
    "OIDC_OP_DISCOVERY_URL", f"{OIDC_OP_ISSUER.rstrip('/')}/.well-known/openid-configuration"
)
OIDC_RP_CLIENT_ID = env.read("OIDC_RP_CLIENT_ID", _dev_default("suivi-social"))
OIDC_RP_CLIENT_SECRET = env.read("OIDC_RP_CLIENT_SECRET", _dev_default("suivi-social-dev-secret"))
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = env.read("OIDC_RP_SCOPES", "openid email given_name usual_name uid siret idp_id")
OIDC_ACR_VALUES = env.read("OIDC_ACR_VALUES", "eidas1")
OIDC_TIMEOUT = env.read_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_LEEWAY_SECONDS = env.read_int("OIDC_LEEWAY_SECONDS", 60)
# Endpoints come from the discovery document; these names are what mozilla-django-oidc reads.
OIDC_OP_AUTHORIZATION_ENDPOINT = ""
OIDC_OP_TOKEN_ENDPOINT = ""
OIDC_OP_USER_ENDPOINT = ""
OIDC_OP_JWKS_ENDPOINT = ""
OIDC_STORE_ID_TOKEN = True
OIDC_CREATE_USER = False

# Database sessions whose save raises the database's error, not a 400, when it is unreachable.
SESSION_ENGINE = "src.sessions"
SESSION_COOKIE_AGE = env.read_int("SESSION_COOKIE_AGE_SECONDS", 8 * 3600)
# Host-only cookies: a session opened on one structure's host is never sent to another one.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_SECURE = IS_PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if IS_PRODUCTION else None
# HSTS covers the structures' subdomains too. SecurityMiddleware sends it on HTTPS requests only.
SECURE_HSTS_SECONDS = env.read_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_PORT_SUFFIX = f":{PUBLIC_URL_PORT}" if PUBLIC_URL_PORT else ""
# Scripts and styles come from the service's own static files only: no inline code, no CDN.
# Forms may post to the service's hosts and to ProConnect, because Chromium checks
# form-action on every redirect that follows a form (sign-in and sign-out go through the
# provider and the public host).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # DSFR's stylesheets embed some icons as data: URLs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [
            SELF,
            f"{PUBLIC_URL_SCHEME}://{BASE_DOMAIN}{_PORT_SUFFIX}",
            f"{PUBLIC_URL_SCHEME}://*.{BASE_DOMAIN}{_PORT_SUFFIX}",
            _origin(OIDC_OP_ISSUER),
        ],
    },
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.read("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
# Uploaded documents go to an S3-compatible bucket when one is named, under
# <bucket>/<schema>/documents/...; otherwise to MEDIA_ROOT/<schema>/documents/... Either way
# no URL serves them: downloads go through the application, which checks access.
AWS_STORAGE_BUCKET_NAME = env.read("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "core.services.documents.TenantS3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty values leave boto3 its defaults: AWS's endpoint, the instance's credentials.
            "endpoint_url": env.read("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env.read("AWS_S3_REGION_NAME", "") or None,
            "access_key": env.read("AWS_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env.read("AWS_S3_SECRET_ACCESS_KEY", "") or None,
        },
    }
# Largest document an agent may upload, in megabytes (1 Mo = 1024 × 1024 bytes).
DOCUMENT_MAX_SIZE_MB = env.read_int("DOCUMENT_MAX_SIZE_MB", 15)

EMAIL_BACKEND = env.read(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.read("EMAIL_HOST", "localhost")
EMAIL_PORT = env.read_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.read("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.read("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.read_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.read(
    "DEFAULT_FROM_EMAIL", "Suivi Social <ne-pas-repondre@suivi-social.localhost>"
)

# Contact shown to people who cannot sign in and to structures that need help.
SUPPORT_EMAIL = env.read("SUPPORT_EMAIL", "support@suivi-social.localhost")

BENEFICIARIES_PER_PAGE = 20

# Shared by every gunicorn worker and pod: Redis when REDIS_URL is set, otherwise PostgreSQL's
# cache table (created by "manage.py createcachetable"). Keys carry the structure's schema.
REDIS_URL = env.read("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
elif IS_PRODUCTION:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate-limit counters are per client address across every host, so their keys carry no schema.
CACHES["rate_limits"] = {**CACHES["default"], "KEY_PREFIX": "rate-limits"}
CACHES["default"]["KEY_FUNCTION"] = "django_tenants.cache.make_key"
RATELIMIT_USE_CACHE = "rate_limits"

# Rate limits, per client IP address, as "<requests>/<period>" with the period in s, m, h or d.
RATE_LIMIT_SIGN_IN = env.read("RATE_LIMIT_SIGN_IN", "30/m")
RATE_LIMIT_API = env.read("RATE_LIMIT_API", "120/m")
for _name, _rate in [
    ("RATE_LIMIT_SIGN_IN", RATE_LIMIT_SIGN_IN),
    ("RATE_LIMIT_API", RATE_LIMIT_API),
]:
    if not re.fullmatch(r"[1-9][0-9]*/[1-9]?[0-9]*[smhd]", _rate):
        raise ImproperlyConfigured(f"{_name} must look like 30/m (requests/period), got {_rate!r}.")
# Proxies in front of the service that append the client's address to X-Forwarded-For: the
# Kubernetes ingress in production. With 0, the TCP peer address is the client's.
TRUSTED_PROXY_COUNT = env.read_int("TRUSTED_PROXY_COUNT", 1 if IS_PRODUCTION else 0)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    # Swagger UI is served from the copy in src/static/vendor/swagger-ui, never from a CDN.
    "SWAGGER_UI_DIST": f"{STATIC_URL}vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": f"{STATIC_URL}vendor/swagger-ui/favicon-32x32.png",
}

# One JSON object a line in production, for the log collector; one readable line elsewhere.
LOG_FORMAT = env.read("LOG_FORMAT", "json" if IS_PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "src.logging_context.RequestContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s [%(schema_name)s %(request_id)s] "
            "%(name)s: %(message)s"
        },
        "json": {"()": "src.logging_context.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_context"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": env.read("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SENTRY_DSN = env.read("SENTRY_DSN", "")
if SENTRY_DSN:
    from src.sentry import init_sentry

    init_sentry(SENTRY_DSN, environment=ENVIRONMENT)

# Called inside a new structure's schema to seed it and invite its first manager.
STRUCTURE_SETUP_FUNCTION = "core.services.structure.set_up_structure"
# Called inside each structure's schema by the national statistics refresh.
STRUCTURE_AGGREGATES_FUNCTION = "core.statistics.structure_aggregates"
# National statistics: a count below this is suppressed (statistical secret).
NATIONAL_STATISTICS_THRESHOLD = env.read_int("NATIONAL_STATISTICS_THRESHOLD", 5)

STATICFILES_DIRS = [BASE_DIR / "src" / "static"]
# Outside production, WhiteNoise serves files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = not IS_PRODUCTION
