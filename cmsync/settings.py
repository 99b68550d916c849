"""cmsync settings: everything that varies between machines comes from the environment.

Every variable read here is listed, with its default and meaning, in ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from lib.env import env_bool, env_int, env_list, env_origins, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CMSYNC_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

# --- Secrets ------------------------------------------------------------------------------------
_DEV_SECRET_KEY = "dev-only-insecure-cmsync-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0")
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of 50 or more characters")


def _read_field_encryption_keys() -> list[str]:
    """Fernet keys, newest first; older keys still decrypt (rotation)."""
    keys = env_list("FIELD_ENCRYPTION_KEY", [])
    if not keys:
        if not DEBUG:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG=0")
        dev_key_file = VAR_DIR / "dev-field-encryption.key"
        if not dev_key_file.exists():
            dev_key_file.write_text(Fernet.generate_key().decode())
            dev_key_file.chmod(0o600)
        keys = [dev_key_file.read_text().strip()]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys "
                "(urlsafe base64 of 32 bytes)"
            ) from None
    return keys


FIELD_ENCRYPTION_KEYS = _read_field_encryption_keys()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Apps ---------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "csp",
    "cmsync",
    "sync",
    "campaigns",
    "sms",
    "maintenance",
    "billing",
]
# The sandbox (local stand-ins for the CM and SF APIs) is a development and test tool, not part
# of the product: installed with DEBUG, and with DEBUG=0 only when asked for (a benchmark).
CMSYNC_SANDBOX = env_bool("CMSYNC_SANDBOX", False)
if DEBUG or CMSYNC_SANDBOX:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "cmsync.urls"
WSGI_APPLICATION = "cmsync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cmsync.context_processors.console",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
_DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'cmsync.sqlite3'}",
    ("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {"default": dj_database_url.parse(_DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, cache -----------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", ("redis", "rediss"))
_CELERY_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", REDIS_URL or "filesystem://", ("redis", "rediss", "amqp", "filesystem")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("out", "processed", "control"):
        (_CELERY_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_DIR / "out"),
        "data_folder_out": str(_CELERY_DIR / "out"),
        "processed_folder": str(_CELERY_DIR / "processed"),
        "control_folder": str(_CELERY_DIR / "control"),
        "store_processed": False,
    }
    (_CELERY_DIR / "results").mkdir(parents=True, exist_ok=True)
    CELERY_RESULT_BACKEND = f"file://{_CELERY_DIR / 'results'}"
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
    CELERY_RESULT_BACKEND = REDIS_URL or "rpc://"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = env_str("TIME_ZONE", "UTC")
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 55 * 60, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60, minimum=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- E-mail -------------------------------------------------------------------------------------
EMAIL_URL = env_url("EMAIL_URL", "", ("smtp", "smtp+tls", "smtp+ssl", "console"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cmsync@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_URL:
    from lib.email_url import email_settings_from_url

    globals().update(email_settings_from_url(EMAIL_URL))
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- I18n, time ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE must be an IANA zone name, got {TIME_ZONE!r}") from None
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production) ----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# The console's cookies never travel in another site's requests or frames. The tracking panel's
# embed (framed by Salesforce pages) has its own short-lived read-only cookie instead
# (sync/views/tracking_panel.py), so nothing here needs SameSite=None.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"  # the embeddable tracking panel opts out per view
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Content-Security-Policy on every response (django-csp): the console's own files only, no
# inline script, no CDN, no frames. The embeddable tracking panel replaces frame-ancestors with
# the connected org's own domains (sync/views/tracking_panel.py).
# - style-src-attr 'unsafe-inline': templates still carry style="" attributes (layout tweaks,
#   progress bar widths); an attribute cannot run script, and <style> elements and foreign
#   style sheets stay refused (style-src 'self').
# - No form-action: browsers apply it to the redirects that follow a form, and the OAuth
#   "Connect" buttons POST here and are redirected to Campaign Monitor's and Salesforce's
#   authorize pages (hosts that vary by setting and by org).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging: never log secrets; request bodies are not logged at all ---------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"urllib3": {"level": "WARNING"}, "simple_salesforce": {"level": "WARNING"}},
}

# --- cmsync -------------------------------------------------------------------------------------
# CA bundle the API clients trust in addition to nothing else: set it to the sandbox CA file
# (var/sandbox/ca.pem) for the demo; empty means the system's trust store (real CM and SF).
CMSYNC_CA_BUNDLE = env_str("CMSYNC_CA_BUNDLE", "")
CMSYNC_SANDBOX_DIR = Path(env_str("CMSYNC_SANDBOX_DIR", str(VAR_DIR / "sandbox")))
CMSYNC_HTTP_TIMEOUT = env_int("CMSYNC_HTTP_TIMEOUT", 30, minimum=1, maximum=600)
# Campaign Monitor API and OAuth app (register one at Campaign Monitor for "Connect with OAuth").
CM_API_BASE_URL = env_url("CM_API_BASE_URL", "https://api.createsend.com/api/v3.3", ("https",))
CM_OAUTH_CLIENT_ID = env_str("CM_OAUTH_CLIENT_ID", "")
CM_OAUTH_CLIENT_SECRET = env_str("CM_OAUTH_CLIENT_SECRET", "")
# Salesforce connected app for "Connect to Salesforce" (OAuth web-server flow).
SF_LOGIN_URL = env_url("SF_LOGIN_URL", "https://login.salesforce.com", ("https",))
SF_CLIENT_ID = env_str("SF_CLIENT_ID", "")
SF_CLIENT_SECRET = env_str("SF_CLIENT_SECRET", "")
# Retry back-off of the API clients: first delay and ceiling, in milliseconds (jittered).
CMSYNC_BACKOFF_BASE_MS = env_int("CMSYNC_BACKOFF_BASE_MS", 500, minimum=0)
CMSYNC_BACKOFF_CAP_MS = env_int("CMSYNC_BACKOFF_CAP_MS", 30_000, minimum=0)
# Rows at or above which Salesforce writes use Bulk API 2.0 instead of sObject Collections.
CMSYNC_BULK_THRESHOLD = env_int("CMSYNC_BULK_THRESHOLD", 2000, minimum=1)
# First wait before polling a Bulk API 2.0 job, in ms (each poll is an API call; it backs off).
CMSYNC_BULK_POLL_MS = env_int("CMSYNC_BULK_POLL_MS", 2000, minimum=50)
# Hours between re-reads of every list's active subscribers (CM's date filters do not show edits
# of names or custom fields; unchanged rows cost no Salesforce call). 0 turns re-reads off.
CMSYNC_RESYNC_ACTIVE_HOURS = env_int("CMSYNC_RESYNC_ACTIVE_HOURS", 24, minimum=0, maximum=24 * 30)
# Read-only screens that ask CM and SF live (tracking panel, import wizard): answers are kept this
# many seconds (0: not kept), and each person may make this many fresh reads a minute.
CMSYNC_LIVE_READ_CACHE_SECONDS = env_int(
    "CMSYNC_LIVE_READ_CACHE_SECONDS", 60, minimum=0, maximum=3600
)
CMSYNC_LIVE_READS_PER_MINUTE = env_int("CMSYNC_LIVE_READS_PER_MINUTE", 30, minimum=1)
# The tracking panel's embed: origins that may frame it besides the connected org's own domains
# (derived from its instance URL), and how long its sign-in lasts in a browser.
CMSYNC_EMBED_FRAME_ANCESTORS = env_origins("CMSYNC_EMBED_FRAME_ANCESTORS", [])
CMSYNC_EMBED_TOKEN_HOURS = env_int("CMSYNC_EMBED_TOKEN_HOURS", 8, minimum=1, maximum=24)

from cmsync.beat import STATIC_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE = STATIC_SCHEDULE
