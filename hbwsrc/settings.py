"""Settings for hbwsrc, read from the environment.

Development defaults are safe on a workstation; production sets DEBUG=False, SECRET_KEY, ALLOWED_HOSTS and
DATABASE_URL (see README.md).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default)
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"{name} must be True or False, got {value!r}")
    return value == "True"


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "True")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is False")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_tasks",
    "django_tasks_db",
    "import_export",
    "guardian",
    "pgtrigger",
    "pghistory",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "institutions",
    "trainees",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Idle and absolute timeouts, sessions ended elsewhere; then who passed the second factor.
    "accounts.middleware.SessionRegistryMiddleware",
    "accounts.middleware.OTPMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    # Last: turns a login refused by django-axes into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# History events name the account and page behind a change. A GET changes no tracked row (pages are safe), so it
# pays nothing for that context.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ROOT_URLCONF = "hbwsrc.urls"
FORM_RENDERER = "hbwsrc.widgets.FormRenderer"
WSGI_APPLICATION = "hbwsrc.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
            "libraries": {"layout": "hbwsrc.layout"},
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hbwsrc"),
        # Persistent connections in production (checked before reuse); none in development.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0" if DEBUG else "600")),
        conn_health_checks=True,
    )
}
# QuerySet.iterator() (every <select> of model choices renders through it) would otherwise open a server-side
# cursor WITH HOLD: DECLARE, FETCH and CLOSE, three round trips and a materialised result for a dozen rows. Nothing
# here iterates over more rows than fit in memory, and a transaction-pooling PgBouncer needs this off anyway.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# Parameters bound by the server, so that psycopg prepares a query once a connection has run it this many times
# (hbwsrc.db). "off" for a pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
PREPARE_THRESHOLD = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")
if PREPARE_THRESHOLD == "off":
    PREPARED_OPTIONS = {}
else:
    from hbwsrc.db import PreparingCursor

    PREPARED_OPTIONS = {
        "server_side_binding": True,
        "cursor_factory": PreparingCursor,
        "prepare_threshold": int(PREPARE_THRESHOLD),
    }
DATABASES["default"].setdefault("OPTIONS", {}).update(PREPARED_OPTIONS)
# A streaming read replica: the read-only pages (views marked hbwsrc.routers.read_only) read from it; everything
# else, and every write, uses the primary. In tests the replica alias mirrors the test database.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {}).update(PREPARED_OPTIONS)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["hbwsrc.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The longest lists (records, audit events) count at most this many rows; past it they say "more than".
LIST_COUNT_CAP = int(os.environ.get("LIST_COUNT_CAP", "10000"))

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses any attempt while the username or the address is locked out.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that also refuses an expired one-time password.
    "accounts.backends.AccountBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian: no anonymous user; object permissions are granted on hierarchy nodes only.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CompositionValidator"},
]
# Account kinds ("office", "institution", "admin") whose passwords must mix 3 of 4 character classes, and
# which must choose a new password every PASSWORD_MAX_AGE_DAYS days (0: never).
PASSWORD_COMPOSITION_FOR = tuple(envlist("PASSWORD_COMPOSITION_FOR", "office"))
PASSWORD_ROTATION_FOR = tuple(envlist("PASSWORD_ROTATION_FOR", "office"))
PASSWORD_MAX_AGE_DAYS = int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "90"))
# An issued or reset one-time password stops working after this many hours.
ONE_TIME_PASSWORD_HOURS = 72

# Login lockout (django-axes): 5 failures within 15 minutes lock the username, and separately the address,
# for 15 minutes; a superior unlocks an account earlier from its page.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # locked for 15 minutes, not 15 minutes after the last try
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_CLIENT_IP_CALLABLE = "hbwsrc.ratelimit.client_ip"
AXES_USERNAME_CALLABLE = "accounts.backends.lockout_username"
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in our own audit trail
# How many reverse proxies in front of the application append to X-Forwarded-For (nginx: 1). 0 trusts no
# header and uses the connection's address, which is right when nothing sits in front.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Two-factor authentication (django-otp): required for region-office and staff accounts, optional for others.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "hbwsrc")
OTP_RECOVERY_CODES = 10
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a TOTP secret or a recovery code
TWO_FACTOR_RATE_LIMIT = (10, 300)  # codes tried per seconds, per account (each device also slows down by itself)

# Sessions end after 30 minutes without a request and 12 hours after the login, whatever happens.
SESSION_IDLE_SECONDS = 30 * 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60

SESSION_ENGINE = "accounts.session_store"  # the database store, reading the session registry row with the session
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script or style anywhere: templates link static files only (tests/test_headers.py checks).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
    }
}
if not DEBUG:
    # Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "True")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Generated PDFs and uploaded scans: the local disk (MEDIA_ROOT) by default; with several app servers, S3-compatible
# object storage shared by all of them (MEDIA_STORAGE=s3, the "s3" extra: pip install '.[s3]').
MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "filesystem")
if MEDIA_STORAGE == "filesystem":
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif MEDIA_STORAGE == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("AWS_STORAGE_BUCKET_NAME", ""),
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,  # MinIO, Ceph, OSS, COS...
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "location": os.environ.get("AWS_LOCATION", "media"),
            "default_acl": None,  # private objects; the platform streams every file through its own views
            "file_overwrite": False,
            # Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment (read by boto3).
        },
    }
    if not DEFAULT_STORAGE["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be filesystem or s3, got {MEDIA_STORAGE!r}")
STORAGES = {
    "default": DEFAULT_STORAGE,
    # Hashed, compressed file names served by WhiteNoise in production (needs collectstatic).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

PAGE_SIZE = 50

# Background work (roster PDFs): a database-backed queue, so the demo needs no extra service.
TASKS = {"default": {"BACKEND": os.environ.get("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Where verification QR codes point: the public address of this platform.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SCAN_MAX_BYTES = int(os.environ.get("SCAN_MAX_BYTES", str(10 * 1024 * 1024)))
# Spreadsheet imports of probation records: larger files or more rows are refused with a message.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(10 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "20000"))
# Uploaded import files hold ID numbers: purge_import_files deletes them this many days after upload (the job and
# its report stay), and fails jobs left checking or importing this many minutes by a worker that died.
IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("IMPORT_FILE_RETENTION_DAYS", "30"))
IMPORT_STUCK_MINUTES = int(os.environ.get("IMPORT_STUCK_MINUTES", "120"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
VERIFY_RATE_LIMIT = (20, 60)  # requests per seconds, per client address
LOOKUP_RATE_LIMIT = (60, 60)  # lookups per seconds, per user
# The dashboard's figures are recomputed at most this often per office (0: on every view).
DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "60"))

# Rate-limit counters must be shared by every worker: point CACHE_URL at Redis in production.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
    if os.environ.get("CACHE_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "hbwsrc.logging.JSONFormatter"}},
    "filters": {"redact": {"()": "hbwsrc.logging.RedactFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["redact"],
            **({} if DEBUG else {"formatter": "json"}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
