"""Settings, read from the environment (see README.md, "Configuration").

Production is the default: nothing is insecure unless ``CASEMGMT_DEVELOPMENT``
is set, which `make run` and `make test` do, or the checkout is marked as one
for development (`make` writes ``var/DEVELOPMENT``) and no production variable
says otherwise. In development a random ``SECRET_KEY`` and key file are
generated into the git-ignored ``var/``.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from casemgmt.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CASEMGMT_VAR_DIR", str(BASE_DIR / "var")))

# Written by `make` into a development checkout, so that manage.py run by hand there (verify_audit,
# seed_demo, ...) works as under make. It counts only where nothing says this is a production: an
# explicit CASEMGMT_DEVELOPMENT (true or false) wins, and a production SECRET_KEY or host name turns it off.
DEVELOPMENT_MARKER = VAR_DIR / "DEVELOPMENT"
PRODUCTION_VARIABLES = ("SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS")


def _marked_for_development() -> bool:
    return DEVELOPMENT_MARKER.is_file() and not any(os.environ.get(name) for name in PRODUCTION_VARIABLES)


DEVELOPMENT = env_bool("CASEMGMT_DEVELOPMENT", _marked_for_development())
DEBUG = env_bool("DEBUG", False)


def _development_secret_key() -> str:
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set outside development. In a development checkout, "
            "run `make run` or `make test` once (they mark var/ as development), or set CASEMGMT_DEVELOPMENT=1."
        )
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEVELOPMENT else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "casemgmt.apps.CaseAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "casemgmt",
    "clients",
    "counselling",
    "plans",
    "referrals",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "casemgmt.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "casemgmt.middleware.IdleTimeoutMiddleware",
    "casemgmt.middleware.MembershipChangedMiddleware",
    "casemgmt.middleware.AuditContextMiddleware",
    "casemgmt.middleware.AccessPolicyMiddleware",
    "casemgmt.middleware.RecordDamagedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-axes wants to be last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "casemgmt.urls"
WSGI_APPLICATION = "casemgmt.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casemgmt.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'casemgmt.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction begins: audit appends stay serialised.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# dumpdata and friends: encrypted fields written as ciphertext even when their value is a date or a
# number (Django's own serialisers would write those as the opened value). See casemgmt/encryption/serialization.
SERIALIZATION_MODULES = {
    "json": "casemgmt.encryption.serialization.json_format",
    "jsonl": "casemgmt.encryption.serialization.jsonl_format",
    "python": "casemgmt.encryption.serialization.python_format",
}
if importlib.util.find_spec("yaml") is not None:  # Django offers yaml only when PyYAML is installed
    SERIALIZATION_MODULES["yaml"] = "casemgmt.encryption.serialization.yaml_format"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "casemgmt.backends.MembershipBackend",  # Django's ModelBackend, with the membership in the same query
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "signin"

# Sign-in throttling: five failures lock the account name for the cool-off period.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
# Per account name, not per address: a clinic's staff share one NAT address, and one person's
# typos must not lock out the whole clinic. (axes.W006 warns about exactly this choice.)
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The caseload index's INCLUDE columns are for PostgreSQL; SQLite builds the index without them.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# Two-factor authentication.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Case management") or "Case management"
OTP_TOTP_THROTTLE_FACTOR = 1

# django-guardian: no anonymous user; object permissions only through direct foreign-key models.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Sessions end after inactivity (minutes); the cookie dies with the browser.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
# The middleware enforces the idle limit (and says so); the cookie outlives it so that it can.
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60 * 2
# The idle middleware records activity at most once a minute (a write per minute of use, not per page),
# which also moves the session's expiry on.
SESSION_ACTIVITY_RESOLUTION_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "casemgmt.views.csrf_failure"

# HTTPS. Secure by default; development turns it off for http://127.0.0.1.
_secure_default = not DEVELOPMENT
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _secure_default)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _secure_default else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _secure_default)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _secure_default)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _secure_default)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _secure_default)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind N reverse proxies, the client address is the N-th from the end of X-Forwarded-For.
CASEMGMT_PROXY_COUNT = env_int("CASEMGMT_PROXY_COUNT", 0)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("km", _("Khmer"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "Asia/Phnom_Penh")
# ISO dates everywhere, the administration site too (Django's locale formats would say "Nov. 22, 2026").
FORMAT_MODULE_PATH = ["casemgmt.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEVELOPMENT else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# Seconds before a mail server that does not answer is given up on (e-mails go out while a page waits).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "casemgmt@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's address as its users reach it, for the links in e-mails (referrals/notifications.py).
CASEMGMT_SITE_URL = env_str("CASEMGMT_SITE_URL", "http://127.0.0.1:8000")

# Ministry reports: counts from 1 to this less one are shown as "<5" (reports/suppression.py); 3 or more.
REPORTS_SUPPRESSION_THRESHOLD = env_int("REPORTS_SUPPRESSION_THRESHOLD", 5)

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Keys (casemgmt/crypto.py): a key file and/or environment variables; see README.md, "Keys".
CASEMGMT_KEY_FILE = env_str("CASEMGMT_KEY_FILE", str(VAR_DIR / "dev-keys.json") if DEVELOPMENT else None)
CASEMGMT_KEKS = env_str("CASEMGMT_KEKS")
CASEMGMT_ACTIVE_KEK = env_str("CASEMGMT_ACTIVE_KEK")
CASEMGMT_INDEX_KEYS = env_str("CASEMGMT_INDEX_KEYS")
CASEMGMT_ACTIVE_INDEX_KEY = env_str("CASEMGMT_ACTIVE_INDEX_KEY")
CASEMGMT_AUDIT_KEY = env_str("CASEMGMT_AUDIT_KEY")
# Expected number of subjects, for the width of blind indexes (CipherSweet's sizing rule).
CASEMGMT_EXPECTED_SUBJECTS = env_int("CASEMGMT_EXPECTED_SUBJECTS", 1_000_000)
# Unwrapped data keys held in memory (per process), and for how long (seconds).
CASEMGMT_DATA_KEY_CACHE_SIZE = env_int("CASEMGMT_DATA_KEY_CACHE_SIZE", 4096)
CASEMGMT_DATA_KEY_CACHE_SECONDS = env_int("CASEMGMT_DATA_KEY_CACHE_SECONDS", 60)

# The audit chain's head, checkpointed outside the database (casemgmt/audit_checkpoints.py) every N events and at
# every verification: appended to this file, which belongs on another machine or an append-only store, and logged
# on the casemgmt.audit.checkpoint logger for a log sink.
CASEMGMT_AUDIT_CHECKPOINT_FILE = env_str(
    "CASEMGMT_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl") if DEVELOPMENT else None)
CASEMGMT_AUDIT_CHECKPOINT_EVERY = env_int("CASEMGMT_AUDIT_CHECKPOINT_EVERY", 1000)
if CASEMGMT_AUDIT_CHECKPOINT_EVERY < 1:
    raise ImproperlyConfigured("CASEMGMT_AUDIT_CHECKPOINT_EVERY must be 1 or more.")

# Referrals: a reactive HIV test with no ART initiation recorded this many days after the test is overdue for
# linkage to ART (referrals.selectors.is_overdue; the centre's cascade counts it).
REFERRALS_ART_LINKAGE_DAYS = 14

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Axes logs user names and addresses of failed sign-ins; the audit trail holds those.
        "axes": {"level": "WARNING"},
        # Audit checkpoints are meant for a log sink: kept whatever LOG_LEVEL says.
        "casemgmt.audit.checkpoint": {"level": "INFO"},
        # WeasyPrint narrates every rendering step at INFO; its warnings (a refused URL) still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
