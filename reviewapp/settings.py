"""Tandem settings: one module, driven by the environment.

Every variable this module reads is listed in README.md ("Configure"). With none set,
Tandem runs in its embedded default: SQLite and a filesystem Celery broker under var/.
"""

import os
from pathlib import Path

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Demo mode is what `make run` sets: it seeds the demo review. Never on without DEBUG.
DEMO_MODE = DEBUG and env_bool("TANDEM_DEMO", False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-tandem-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public address used in emailed links (e.g. https://tandem.example.org); else the request's.
SITE_URL = env("SITE_URL").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "accounts",
    "projects",
    "references",
    "screening",
    "extraction",
    "frameworks",
    "reports",
    "ranking",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "reviewapp.urls"
WSGI_APPLICATION = "reviewapp.wsgi.application"

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
                "accounts.context_processors.site",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user:pass@host:5432/name), else SQLite in var/.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tandem.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write at the same time: wait for locks, take them early.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "projects:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# New accounts come from invitations; ALLOW_SIGNUP=1 also opens a public sign-up page.
ALLOW_SIGNUP = env_bool("ALLOW_SIGNUP", False)

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served publicly: files go through views that check access
# In development whitenoise serves straight from the app folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: EMAIL_URL (smtp://user:pass@host:587, submission://... for STARTTLS), else the console.
_email = dj_email_url.parse(env("EMAIL_URL", "console:"))
EMAIL_CONFIGURED = _email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            "host": _email["EMAIL_HOST"],
            "port": _email["EMAIL_PORT"],
            "username": _email["EMAIL_HOST_USER"],
            "password": _email["EMAIL_HOST_PASSWORD"],
            "use_tls": _email["EMAIL_USE_TLS"],
            "use_ssl": _email["EMAIL_USE_SSL"],
            "timeout": _email.get("EMAIL_TIMEOUT") or 20,
        }
        if EMAIL_CONFIGURED
        else {},
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Tandem <tandem@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: CELERY_BROKER_URL (redis://host:6379/0), else kombu's filesystem transport in var/,
# so jobs run in a separate worker exactly as in production, with no server to install.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery-broker"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_queue_dir / "control"),
    }
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "tandem")
# The queue of prioritised screening's retraining (ranking.retrain), the one background task
# that runs while people screen: by default the jobs' queue. Set CELERY_RANKING_QUEUE and run
# a worker with `-Q <that queue>` to keep trainings from waiting behind long jobs (imports,
# exports) and to give them a CPU budget, or a machine, of their own (docker-compose.yml).
RANKING_QUEUE = env("CELERY_RANKING_QUEUE", "") or CELERY_TASK_DEFAULT_QUEUE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # state lives on Job rows, not in a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False  # a job whose worker died is marked failed, not rerun
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(env("JOB_TIME_LIMIT") or "3600")
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A job whose worker died stays "running" until the sweep marks it failed (retryable): when
# its heartbeat (written at every progress report) is older than JOB_STALE_AFTER seconds, or
# when it is still queued JOB_QUEUED_STALE_AFTER seconds after it was created (the message was
# lost). Celery beat (`make run`, the `beat` service in docker-compose.yml) runs the sweep.
JOB_STALE_AFTER = int(env("JOB_STALE_AFTER") or "600")
JOB_QUEUED_STALE_AFTER = int(env("JOB_QUEUED_STALE_AFTER") or "3600")
JOB_SWEEP_INTERVAL = 60  # seconds between two sweeps
# Job files (exports, reports) are kept JOB_FILE_DAYS days after their job finished, then
# removed by the clean-up beat runs every JOB_PURGE_INTERVAL seconds (projects.jobs.
# purge_expired_files); the job's row stays and its page says the file expired.
JOB_FILE_DAYS = int(env("JOB_FILE_DAYS") or "7")
JOB_PURGE_INTERVAL = 3600
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {
        "task": "projects.sweep_jobs",
        "schedule": JOB_SWEEP_INTERVAL,
        # Sweeps that waited for a stopped worker are not worth running all at once.
        "options": {"expires": JOB_SWEEP_INTERVAL},
    },
    "purge-expired-job-files": {
        "task": "projects.purge_job_files",
        "schedule": JOB_PURGE_INTERVAL,
        "options": {"expires": JOB_PURGE_INTERVAL},
    },
}
# The ranking model's features of each stage's records, kept between retrainings.
RANKING_CACHE_DIR = Path(env("RANKING_CACHE_DIR", str(VAR_DIR / "ranking")))
# How many records of a stage's served order a training writes (the head of the order).
RANKING_SCORED_MAX = int(env("RANKING_SCORED_MAX") or "5000")
# After a retraining, the next one of the same stage waits this many times its length: the
# share of time a stage spends retraining while people screen is at most 1 / (1 + this). At
# 19 (5%), 20 reviewers of a 100,000-record stage in relevance order got the next record with
# p95 1.0-1.4x that of import order; at 3 (25%) and 9 (10%) the decisions that overlap a
# training made p95 2 to 7 times higher (bench/README.md, "With relevance order").
RANKING_COOLDOWN = float(env("RANKING_COOLDOWN") or "19")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security. With DEBUG off these are on; behind a TLS-terminating proxy set
# SECURE_PROXY_SSL_HEADER=1 so Django trusts its X-Forwarded-Proto header.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS") or "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Imports: the largest reference file a user may upload, in megabytes.
MAX_UPLOAD_MB = int(env("MAX_UPLOAD_MB") or "200")
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # larger uploads go to a temporary file
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
