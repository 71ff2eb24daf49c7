"""Settings for the CRM, read from the environment (see README: Configuration)."""

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from crm.beat import beat_schedule
from crm.lib.env import (
    env_bool,
    env_choice,
    env_currency,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
# Management commands (migrate, makemigrations --check, tests) run without a key; the WSGI
# and ASGI entry points refuse to serve with this one unless DEBUG is on (crm/lib/env.py).
INSECURE_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or INSECURE_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", ["http://127.0.0.1:8000", "http://localhost:8000"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm",
    "core",
    "customers",
    "sales",
    "service",
    "analytics",
    "marketing",
    # The top floor, which may import every app: the full export and restore.
    "integrations",
]
# The benchmark commands and the demo seeders (devtools/): for development, CI and the test
# suite (tests/settings.py), never installed in production.
CRM_DEVTOOLS = env_bool("CRM_DEVTOOLS", default=False)
if CRM_DEVTOOLS:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check reads the body: an upload over the limit is refused unread.
    "crm.lib.uploads.UploadSizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets the language cookie to the one in the profile of a user who just signed in.
    "core.profiles.SignInLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Sends a signed-in user to the second step or to enrolment (CRM_REQUIRE_2FA_ROLES).
    "core.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
            # {% submit_token %}, in every form that creates something (core/middleware.py).
            "builtins": ["core.templatetags.submit_once"],
        },
    },
]

# Database: SQLite in the project unless DATABASE_URL names PostgreSQL.
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # JIT compiling costs more than it saves on a web app's short queries
        # (the forecast's aggregate spent 100+ ms compiling).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "db.sqlite3"),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Celery and the cache: Redis when REDIS_URL is set, otherwise tasks run inline and the
# cache is in memory. Redis trouble must never hold a web request or answer 500: the
# connections time out within a second, a publish is retried once (crm.lib.tasks logs a
# failed one and a beat sweep publishes the job later), and the cache fails soft
# (crm.lib.cache). Sessions live in the database (Django's default SESSION_ENGINE), so a
# Redis outage logs nobody out.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
REDIS_CONNECT_TIMEOUT = 0.5  # seconds; the server is on the local network
REDIS_SOCKET_TIMEOUT = 5  # seconds; no command we send takes long
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = env_time_zone("TIME_ZONE", "UTC")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
# One quick retry (a dropped pooled connection), then the publish fails (about 20 s with
# Celery's defaults, most of it the result backend's 20 reconnects).
_QUICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUICK_RETRY
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUICK_RETRY}
# A separate queue name lets tests (and several deployments on one Redis) run their own workers.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "crm")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "crm.lib.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = CELERY_TIMEZONE
USE_I18N = True
USE_TZ = True
# Chinese amounts grouped by thousands (crm/formats); every other format is Django's.
FORMAT_MODULE_PATH = ["crm.formats"]

CRM_CURRENCY = env_currency("CRM_CURRENCY", "USD")
# Open deals at or above this win probability count as committed in the forecast.
CRM_COMMIT_PROBABILITY = env_int("CRM_COMMIT_PROBABILITY", 75, minimum=0, maximum=100)
# An open deal without activity for this many days is flagged as stale.
CRM_STALE_DEAL_DAYS = env_int("CRM_STALE_DEAL_DAYS", 30, minimum=1, maximum=3650)
# Service desk: how often the SLA escalation job runs (minutes).
CRM_SLA_ESCALATION_MINUTES = env_int("CRM_SLA_ESCALATION_MINUTES", 5, minimum=1, maximum=60)
# Analytics: the nightly segment run's hour (in TIME_ZONE) and the yearly discount rate of
# predicted lifetime value, in percent.
CRM_SEGMENTS_HOUR = env_int("CRM_SEGMENTS_HOUR", 2, minimum=0, maximum=23)
CRM_LTV_DISCOUNT_PERCENT = env_int("CRM_LTV_DISCOUNT_PERCENT", 10, minimum=0, maximum=100)
# Customers per chunk task of the segment run; more workers on the queue share the chunks.
CRM_SEGMENTS_CHUNK_SIZE = env_int(
    "CRM_SEGMENTS_CHUNK_SIZE", 250_000, minimum=1000, maximum=10_000_000
)
# A worker may stop at any time (killed, restarted, out of memory): the sweeps below fail or
# release its work once it has shown no sign of life for this long. A segment run's task
# beats at every step and chunk (a step takes seconds); a campaign send's claimed rows beat
# at least every third of their timeout (an SMTP call can hang EMAIL_TIMEOUT seconds).
CRM_RUN_STALE_SECONDS = env_int("CRM_RUN_STALE_SECONDS", 300, minimum=2, maximum=86400)
# Succeeded segment runs that keep their per-customer rows, the current one included: each
# run adds a row per customer with orders (a million a night), and nothing reads an older
# run's rows; its summaries and segment movements, which the trends read, are kept. At
# least two: a reader that looked up the current run just before a new one was published
# still finds its rows.
CRM_KEEP_RUN_DETAILS = env_int("CRM_KEEP_RUN_DETAILS", 3, minimum=2, maximum=10_000)
CRM_CLAIM_STALE_SECONDS = env_int("CRM_CLAIM_STALE_SECONDS", 90, minimum=2, maximum=86400)
# How often beat runs the sweeps (seconds).
CRM_SWEEP_SECONDS = env_int("CRM_SWEEP_SECONDS", 60, minimum=1, maximum=3600)
# How often beat looks for possible duplicate customers again (minutes).
CRM_DUPLICATES_REFRESH_MINUTES = env_int(
    "CRM_DUPLICATES_REFRESH_MINUTES", 60, minimum=5, maximum=24 * 60
)
# Testing only: a segment run waits this long after aggregating and in each chunk, so a
# fault test can kill its worker mid-run.
CRM_SEGMENTS_STEP_PAUSE_SECONDS = env_int(
    "CRM_SEGMENTS_STEP_PAUSE_SECONDS", 0, minimum=0, maximum=600
)
# A message a worker took but never acknowledged (it was killed during an acks_late task)
# goes back to the queue after this long, not Redis's default hour. Longer than any task
# runs, and than any countdown (the campaign task reschedules itself seconds ahead); the
# sweeps recover sooner what cannot wait for it.
# (Added to the options above: replacing the dict would drop the socket timeouts, and a
# Redis that accepts connections but does not answer would hold each publish for ever.)
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int(
    "CELERY_VISIBILITY_TIMEOUT", 900, minimum=60, maximum=86400
)

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Django's storage for files the app writes (background export files): never served as
# static or media files, only through views that check who asks. Share it between web and
# worker processes (the same directory, or another storage backend).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# CRM_STORAGE=s3 keeps them in an S3-compatible bucket instead (`pip install .[s3]`, README
# "File storage"): the bucket stays private; files are still only served through our views.
CRM_STORAGE = env_choice("CRM_STORAGE", "filesystem", ("filesystem", "s3"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if CRM_STORAGE == "s3":
    # boto3 reads the credentials itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or the
    # instance's role): they are never in the settings or the database.
    AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("CRM_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,  # MinIO, Ceph, R2...
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "location": env_str("AWS_LOCATION", ""),  # a prefix inside the bucket
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crm@localhost")
# For EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# A hung mail server must not hold a worker (or a campaign's claimed recipients) for long.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=600)
# The outbox (core): attempts per message before it is marked failed, the first retry's
# wait (each next one waits 3 times longer: 8 attempts span about 18 hours), and how long
# a claim may last without a sign of life before the sweep takes it for a dead worker's and
# re-sends (a delivering worker renews its claims after each message: keep this several times
# EMAIL_TIMEOUT, the longest one SMTP command may take).
CRM_OUTBOX_MAX_ATTEMPTS = env_int("CRM_OUTBOX_MAX_ATTEMPTS", 8, minimum=1, maximum=30)
CRM_OUTBOX_RETRY_SECONDS = env_int("CRM_OUTBOX_RETRY_SECONDS", 60, minimum=1, maximum=86400)
CRM_OUTBOX_CLAIM_SECONDS = env_int("CRM_OUTBOX_CLAIM_SECONDS", 300, minimum=2, maximum=86400)
# Campaigns: the SMS backend (a dotted path) and how failed sends are retried.
CRM_SMS_BACKEND = env_str("CRM_SMS_BACKEND", "marketing.sms.ConsoleSmsBackend")
CRM_SEND_MAX_ATTEMPTS = env_int("CRM_SEND_MAX_ATTEMPTS", 4, minimum=1, maximum=20)
CRM_SEND_RETRY_SECONDS = env_int("CRM_SEND_RETRY_SECONDS", 60, minimum=1, maximum=86400)
# Webhooks (integrations, docs/webhooks.md): a delivery waits CRM_WEBHOOK_RETRY_SECONDS
# after its first failure, twice as long after each next one (at most
# CRM_WEBHOOK_RETRY_MAX_SECONDS), and is given up once its event is CRM_WEBHOOK_RETRY_HOURS
# old; CRM_WEBHOOK_DISABLE_AFTER failed attempts in a row disable the endpoint (its owner is
# emailed). A receiver must answer within CRM_WEBHOOK_TIMEOUT_SECONDS; a claim older than
# CRM_WEBHOOK_CLAIM_SECONDS (keep it several times the timeout) is a dead worker's.
# CRM_WEBHOOKS_ALLOW_PRIVATE=1 lets endpoints reach private and loopback addresses (for
# tests and a receiver on the same network; never where users are not trusted).
CRM_WEBHOOKS_ALLOW_PRIVATE = env_bool("CRM_WEBHOOKS_ALLOW_PRIVATE", False)
CRM_WEBHOOK_TIMEOUT_SECONDS = env_int("CRM_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
CRM_WEBHOOK_RETRY_SECONDS = env_int("CRM_WEBHOOK_RETRY_SECONDS", 30, minimum=1, maximum=3600)
CRM_WEBHOOK_RETRY_MAX_SECONDS = env_int(
    "CRM_WEBHOOK_RETRY_MAX_SECONDS", 3600, minimum=1, maximum=86400
)
CRM_WEBHOOK_RETRY_HOURS = env_int("CRM_WEBHOOK_RETRY_HOURS", 24, minimum=1, maximum=24 * 14)
CRM_WEBHOOK_DISABLE_AFTER = env_int("CRM_WEBHOOK_DISABLE_AFTER", 20, minimum=1, maximum=1000)
CRM_WEBHOOK_CLAIM_SECONDS = env_int("CRM_WEBHOOK_CLAIM_SECONDS", 120, minimum=2, maximum=86400)
# Where emailed links (ticket follow-up, satisfaction survey, unsubscribe) point.
CRM_BASE_URL = env_str("CRM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Uploads: a customer CSV bigger than this is refused with a message, not a 500.
CRM_IMPORT_MAX_BYTES = 5 * 1024 * 1024
# CSV exports of more rows than this are written by a background job and downloaded once
# from the exports page; a file not downloaded is deleted after CRM_EXPORT_KEEP_HOURS.
CRM_EXPORT_BACKGROUND_ROWS = env_int("CRM_EXPORT_BACKGROUND_ROWS", 5000, minimum=1)
CRM_EXPORT_KEEP_HOURS = env_int("CRM_EXPORT_KEEP_HOURS", 24, minimum=1, maximum=24 * 30)
# Imports validate and stage this many rows at a time: memory per chunk against round trips.
CRM_IMPORT_CHUNK_ROWS = env_int("CRM_IMPORT_CHUNK_ROWS", 50_000, minimum=1)
# Uploaded import files hold other people's personal data: a user keeps at most this many
# waiting for confirmation, and the import sweep cancels and empties those left longer than
# CRM_IMPORT_KEEP_DAYS (applied and cancelled ones are emptied at once; the rows an import
# skipped stay that long for the user to fix).
CRM_IMPORT_MAX_PENDING = env_int("CRM_IMPORT_MAX_PENDING", 5, minimum=1)
CRM_IMPORT_KEEP_DAYS = env_int("CRM_IMPORT_KEEP_DAYS", 7, minimum=1)
# Customer imports write this many rows per batch (a failing batch is retried row by row).
CRM_CUSTOMER_IMPORT_BATCH_ROWS = env_int("CRM_CUSTOMER_IMPORT_BATCH_ROWS", 500, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Sign-in throttling, two-factor sign-in, CSP, HTTPS, session lifetime (issue 13).
from crm.api_settings import *  # noqa: E402, F403
from crm.security_settings import *  # noqa: E402, F403

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Operations (issue 12): database outages, readiness, log format. See README: Deployment.
# Persistent connections, checked before their first use in each request (a connection
# PostgreSQL dropped while idle is replaced instead of failing the request).
# (DATABASE_URL only: the SQLite file needs no pool.)
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60, minimum=0, maximum=86400)
if DATABASE_URL:
    DATABASES["default"]["CONN_MAX_AGE"] = CONN_MAX_AGE
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# First: a read that met a dropped connection is run once more; any other database outage
# answers the 503 page (crm/lib/db_outage.py, with handler500 in crm/urls.py).
MIDDLEWARE = ["crm.lib.db_outage.RetryDroppedConnectionMiddleware", *MIDDLEWARE]
# `json`: one JSON object per line (crm/lib/logging.py), for log collectors.
CRM_LOG_FORMAT = env_choice("CRM_LOG_FORMAT", "text", ("text", "json"))
if CRM_LOG_FORMAT == "json":
    LOGGING["formatters"] = {"json": {"()": "crm.lib.logging.JsonFormatter"}}
    LOGGING["handlers"]["console"]["formatter"] = "json"

# Double submissions (issue 12): every form that creates something carries a one-time
# token (`{% submit_token %}`, a built-in tag: TEMPLATES above), and a second POST of the same token answers
# the first result instead of running the view again (core/middleware.py). After the
# login, CSRF and messages middleware, so their checks come first.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "core.middleware.SubmitOnceMiddleware",
)
# Used tokens (and the API's idempotency keys) are kept this long, then purged by beat.
CRM_IDEMPOTENCY_KEY_HOURS = env_int("CRM_IDEMPOTENCY_KEY_HOURS", 24, minimum=1, maximum=24 * 90)

# Email in (issue 14, integrations.mail): a message larger than this is stored with its
# headers and a note, not parsed; attachments are refused past their limits while the
# upload streams in (core.attachments).
CRM_MAIL_MAX_BYTES = env_int("CRM_MAIL_MAX_BYTES", 30 * 1024 * 1024, minimum=1024)
CRM_ATTACHMENT_MAX_BYTES = env_int("CRM_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
CRM_ATTACHMENT_MAX_MESSAGE_BYTES = env_int(
    "CRM_ATTACHMENT_MAX_MESSAGE_BYTES", 40 * 1024 * 1024, minimum=1024
)
# A customer's email reopens a ticket resolved at most this many days ago (older: a new ticket).
CRM_MAIL_REOPEN_DAYS = env_int("CRM_MAIL_REOPEN_DAYS", 14, minimum=0, maximum=365)
# The Reply-To of emails about tickets that did not come in through a support mailbox (a
# ticket from email remembers the address it was sent to); customers' answers come back here.
CRM_SUPPORT_ADDRESS = env_str("CRM_SUPPORT_ADDRESS", DEFAULT_FROM_EMAIL)
# Opens (a pixel) and clicks (a signed redirect) of campaign emails; off sends plain links.
CRM_EMAIL_TRACKING = env_bool("CRM_EMAIL_TRACKING", True)
# Each active mailbox is polled this often by beat (integrations.tasks).
CRM_MAIL_POLL_SECONDS = env_int("CRM_MAIL_POLL_SECONDS", 60, minimum=5, maximum=3600)

# Celery beat (`celery -A crm beat`): the periodic jobs, every entry in crm/beat.py, at the
# intervals set above.
CELERY_BEAT_SCHEDULE = beat_schedule(
    sweep_seconds=CRM_SWEEP_SECONDS,
    sla_escalation_minutes=CRM_SLA_ESCALATION_MINUTES,
    duplicates_refresh_minutes=CRM_DUPLICATES_REFRESH_MINUTES,
    segments_hour=CRM_SEGMENTS_HOUR,
    mail_poll_seconds=CRM_MAIL_POLL_SECONDS,
)
