"""Settings: one module, configured only by environment variables.

A git-ignored `.env` file beside manage.py is read when present (`scripts/make_env.py`
creates one with fresh keys for a local demo); real environment variables win over it.
Secrets have no defaults: a missing SECRET_KEY or encryption key stops the process with a
message that says what to set.
"""

import datetime
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import COMMAND_LINE, timeouts

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is not set. For a local demo run "
            "`python scripts/make_env.py` (or `make run`), which writes a git-ignored .env "
            "with freshly generated keys; in production set it in the service environment."
        )
    return value


SECRET_KEY = _required("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Field encryption key ring, "id:base64key,id:base64key"; the last key encrypts, all decrypt.
# Parsed and validated by casework.crypto at startup (casework.apps).
FIELD_ENCRYPTION_KEYS = env.str("FIELD_ENCRYPTION_KEYS", default="")
# Key of the HMAC blind index used for exact-match search on identity fields.
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # the stock widget templates, for FORM_RENDERER below
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "django_filters",
    "django_htmx",
    "csp",
    "rest_framework",
    "drf_spectacular",
    # Project apps, in dependency order (DESIGN.md section 2).
    "audit",
    "accounts",
    "casework",
    "outreach",
    "meetings",
    "referrals",
    "imports",
    "indicators",
    "operations",
    "api",
    "demo",  # `manage.py seed_demo`; no models, imports every app and none imports it
]

MIDDLEWARE = [
    "audit.middleware.RequestContextMiddleware",
    # Which writes of the request committed, for the outage page (operations.outage).
    "operations.outage.DatabaseOutageMiddleware",
    # From here on, reading a scoped model without a scope raises (accounts.scoping).
    "accounts.scoping.RequestScopeMiddleware",
    "accounts.middleware.PermissionsPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.RejectNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # API tokens set request.user before the second-factor and access checks (api app).
    "api.authentication.BearerTokenMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
    # Reads started by another site never reach a view (nor record its audit event).
    "accounts.middleware.CrossSiteReadMiddleware",
    # After a reset by someone else: nothing but the password change page (accounts).
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "accounts.access.AccessMiddleware",
    # Turns a service's StepUpRequired into the re-authentication page (accounts.reauth).
    "accounts.reauth.StepUpMiddleware",
    # Last, as django-axes requires: turns a lockout into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "accounts.middleware.session_policy",
            ],
        },
    },
]

# Widgets render through the project's template settings, so that templates/django/forms/
# can replace a stock widget template (the select, whose per-option includes were costly).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# How long anything may wait on the database (config/timeouts.py; README, "Running in
# production"). Web requests get every bound; management commands (manage.py sets
# config.COMMAND_LINE) only the connect timeout: migrations, backups and purges may run
# long statements and wait for locks as an operator expects.
try:
    _timeouts = timeouts.from_environment(lambda name: env.str(name, default="") or None)
except timeouts.TimeoutSettingError as error:
    raise ImproperlyConfigured(str(error)) from None
DATABASE_TIMEOUTS = _timeouts.without_statement_bounds() if COMMAND_LINE else _timeouts

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent writers queue
    # instead of failing half-way (this is also what serialises audit-chain appends).
    # SQLite's one write lock covers the whole database, so writers wait for it in normal
    # work: the busy timeout is longer than PostgreSQL's lock timeout (SQLITE_BUSY_TIMEOUT).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": DATABASE_TIMEOUTS.sqlite_busy,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Covering indexes' included columns are for PostgreSQL; SQLite indexes the keys only.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Session settings of every PostgreSQL connection (docs/scaling.md), overridable as a whole.
# JIT compilation takes longer than it saves on this application's queries (about 0.5 s
# of a fiscal-year report at a million contacts); on SSD storage a random page read costs
# little more than a sequential one, and at the default cost of 4 the planner scans the
# whole contacts table to join a few thousand outreach visits instead of using its key.
# The timeouts are added to these (setting this variable does not remove them).
POSTGRES_SESSION_OPTIONS = env.str(
    "POSTGRES_SESSION_OPTIONS", default="-c jit=off -c random_page_cost=1.1"
)


def _postgres_connection(database: dict) -> dict:
    database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    database["CONN_HEALTH_CHECKS"] = True
    # Django's backend, with each wait for the server bounded on the client as well.
    database["ENGINE"] = "config.postgresql"
    options = database.setdefault("OPTIONS", {})
    options["options"] = f"{POSTGRES_SESSION_OPTIONS} {DATABASE_TIMEOUTS.postgres_options()}"
    options["connect_timeout"] = DATABASE_TIMEOUTS.connect
    options["wait_limit"] = DATABASE_TIMEOUTS.client_wait()
    return database


if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    _postgres_connection(DATABASES["default"])

# Optional read replica for the statistics (docs/scaling.md): the metric evaluation of
# reports and metric pages reads from it through config.routers.StatisticsRouter; every
# write and every other read stays on the primary. In tests it mirrors the default database.
if env.str("STATISTICS_DATABASE_URL", default=""):
    DATABASES["statistics"] = _postgres_connection(env.db("STATISTICS_DATABASE_URL"))
    DATABASES["statistics"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.routers.StatisticsRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or source before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No anonymous user row: anonymous visitors get nothing, not even object permissions.
ANONYMOUS_USER_NAME = None

# Length and the common-password list, no composition rules (ASVS 5.0 6.2.5: an all-digit
# passphrase of 12+ characters is allowed).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]


def _flag(name: str) -> bool:
    """A yes/no variable that refuses anything but a clear yes or no (a misspelt "ture"
    would otherwise silently mean no)."""
    value = env.str(name, default="").strip().lower()
    if value in ("", "0", "false", "no", "n", "off"):
        return False
    if value in ("1", "true", "yes", "y", "on", "ok"):
        return True
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


# The client address (audit.context.client_address, used by the audit trail and the login
# policy alike). Behind the TLS proxy it is taken from X-Forwarded-For: TRUSTED_PROXY_COUNT
# proxies (default 1) each append the address they received the request from, so the
# client is that many entries from the right; entries further left come from the client
# and are ignored, and a request with fewer entries is taken from its direct peer. The
# application must be reachable only through the proxy.
BEHIND_TLS_PROXY = _flag("BEHIND_TLS_PROXY")


def _trusted_proxy_count() -> int:
    value = env.str("TRUSTED_PROXY_COUNT", default="").strip()
    if not BEHIND_TLS_PROXY:
        if value not in ("", "0"):
            raise ImproperlyConfigured(
                f"TRUSTED_PROXY_COUNT is {value!r} but BEHIND_TLS_PROXY is not true: set "
                "BEHIND_TLS_PROXY=true when the application runs behind the TLS proxy, or "
                "remove TRUSTED_PROXY_COUNT."
            )
        return 0
    if not value:
        return 1
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 10):
        raise ImproperlyConfigured(
            f"TRUSTED_PROXY_COUNT is {value!r}. Behind the TLS proxy (BEHIND_TLS_PROXY=true) "
            "it must be the number of proxies in front of the application that append the "
            "client address to X-Forwarded-For, a whole number from 1 to 10 (default 1). "
            "Without it the client address cannot be resolved and the login lockout would "
            "treat every client as one."
        )
    return int(value)


TRUSTED_PROXY_COUNT = _trusted_proxy_count()

# Login policy (django-axes): after LOGIN_FAILURE_LIMIT failures an account, and separately
# a source address, is locked for LOGIN_LOCKOUT_MINUTES; supervisors and administrators can
# unlock earlier (accounts:lockouts). A typed name that belongs to no account is kept only
# as a keyed digest (audit.signals.recorded_login_name), in axes' tables as in the audit
# trail: people type passwords into the user name field.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "audit.context.client_address"
AXES_USERNAME_CALLABLE = "audit.signals.axes_username"

# Session policy (accounts.middleware): idle and absolute timeouts; the cookie itself
# expires with the browser and after the absolute limit.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=15)
# Pages warn this long before the idle timeout, with a button that extends the session.
SESSION_WARNING_SECONDS = env.int("SESSION_WARNING_SECONDS", default=120)
# Roles that must pass a second factor (TOTP or a recovery code) in every session.
# Holders of accounts.requires_two_factor (supervisors, auditors, administrators) must pass
# a second factor; switch off only for a demo without a phone.
TWO_FACTOR_ENFORCED = env.bool("TWO_FACTOR_ENFORCED", default=True)
OTP_TOTP_ISSUER = "ひきこもり支援ケース管理"
# Step-up: sensitive actions need a password (and second factor) this recent.
REAUTH_MINUTES = env.int("REAUTH_MINUTES", default=5)
# Access review flags: this many identity reveals in the period; night hours [from, to).
ACCESS_REVIEW_REVEALS = env.int("ACCESS_REVIEW_REVEALS", default=10)
ACCESS_REVIEW_NIGHT = (22, 6)
# How long a break-glass (emergency) access to a case lasts.
BREAK_GLASS_MINUTES = env.int("BREAK_GLASS_MINUTES", default=60)
# Most break-glass requests one person may make in 24 hours (refused beyond, audited).
BREAK_GLASS_DAILY_LIMIT = env.int("BREAK_GLASS_DAILY_LIMIT", default=3)
# How long, after a transfer (移管), the old organisation may read the records it wrote.
TRANSFER_READ_BACK_DAYS = env.int("TRANSFER_READ_BACK_DAYS", default=90)
# Years after a case's closure before `purge_expired` crypto-shreds its content.
RETENTION_YEARS = env.int("RETENTION_YEARS", default=5)
# How long after saving a contact its author may correct it (supervisors: any time).
CONTACT_CORRECTION_DAYS = env.int("CONTACT_CORRECTION_DAYS", default=7)
# Drafts of record forms (casework.drafts): kept this long after the last keystroke, then
# ignored and deleted by `purge_expired`; the most text one draft may hold.
DRAFT_RETENTION_HOURS = env.int("DRAFT_RETENTION_HOURS", default=72)
DRAFT_MAX_BYTES = 64 * 1024
# The most drafts one person keeps (one per form being typed into); the oldest go first.
DRAFT_MAX_PER_USER = 20
# The work queue (casework.work_queue): a lead worker's case with no contact for this
# many days, by the case's status, is listed (closed cases never); a new case is left out
# until its first contact is due, this many days after it opened. Overridable per status,
# e.g. NO_CONTACT_DAYS_INTAKE=10.
NO_CONTACT_DAYS_BY_STATUS = {
    "intake": env.int("NO_CONTACT_DAYS_INTAKE", default=14),
    "active": env.int("NO_CONTACT_DAYS_ACTIVE", default=30),
    "monitoring": env.int("NO_CONTACT_DAYS_MONITORING", default=90),
}
# A referral sent to the organisation and not answered after this many days is overdue.
REFERRAL_ANSWER_DAYS = env.int("REFERRAL_ANSWER_DAYS", default=14)
# Largest export of records in one file; beyond it the user is asked to narrow the filters.
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=100_000)
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=10)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files after `collectstatic` in production; plain files for
        # the demo and the tests, which serve straight from the source folders.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Transport and cookie security: on unless explicitly turned off for a local HTTP demo.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Browser features no page of this application uses, refused for it and for anything it
# could embed (accounts.middleware.PermissionsPolicyMiddleware sends the header on every
# response). A feature a page comes to need gets its allowlist here, e.g. ["self"].
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "window-management",
        "xr-spatial-tracking",
    )
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

WHITENOISE_USE_FINDERS = not env.bool("STATIC_MANIFEST", default=not DEBUG)

# Spreadsheet imports (imports app; imports/parsing.py says how each is checked). A file is
# read once, at the upload, and refused with a message naming the limit as soon as reading
# it passes one of these; nothing of a refused file is kept. The page and import_records
# use the same limits.
# The file: up to this size, held in memory only. Uploads are never spooled to a temporary
# file; a larger one is dropped and refused by the form. Also the most characters of cell
# text a file may hold (a shared string or merged value counted at every cell showing it).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# Data rows below the header (20,000 rows check and import in a few seconds).
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
# Columns: the last column holding a cell (the old spreadsheets use 10 to 40).
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=100)
# XLSX, checked from the zip's directory before anything is unpacked: all members together
# unpack to at most this (20,000 rows of 10 columns are about 15 MB) ...
IMPORT_MAX_UNPACKED_MB = env.int("IMPORT_MAX_UNPACKED_MB", default=50)
# ... no member over 100 KB unpacks to more than this many times its packed size (ordinary
# sheets pack 5 to 20 times; Apache POI's default refuses past 100 too) ...
IMPORT_MAX_RATIO = env.int("IMPORT_MAX_RATIO", default=100)
# ... and each part that openpyxl parses whole (content types, workbook, styles) is at most
# this (a styles part of Excel's maximum 64,000 formats is about 4 MB; ordinary ones, KB).
IMPORT_MAX_PART_MB = env.int("IMPORT_MAX_PART_MB", default=2)
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024  # the whole request body

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SIMPLE_HISTORY_HISTORY_ID_USE_UUID = True

# The REST API (docs/api.md): JSON only, versioned in the path, under the same access
# matrix as the screens (accounts.access.AccessMiddleware runs before every API view).
API_PATH_PREFIX = "/api/"
# An API token lives at most this many days (default offered: 30).
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=90)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "SCHEMA_COERCE_PATH_PK": False,  # paths name {pk} as the URLs do
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hikikomori support case management API",
    "DESCRIPTION": "Indicator figures (suppressed as on the screens), the referral inbox and "
    "its status transitions, and contact logging for integrations. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ReferralStatusEnum": "referrals.models.Referral.Status"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "audit.middleware.RequestIdLogFilter"},
        # A database outage: one line per burst with a count, not a trace per request.
        "database_outage": {"()": "operations.outage.outage_log_filter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["database_outage", "request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
