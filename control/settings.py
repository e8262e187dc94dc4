"""Control plane settings. Every value comes from a SWITCHYARD_* variable (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

SWITCHYARD_ENV = env.str("SWITCHYARD_ENV", default="dev")
DEBUG = env.bool("SWITCHYARD_DEBUG", default=SWITCHYARD_ENV == "dev")
# Production has no default: the process refuses to start without a key.
SECRET_KEY = env.str(
    "SWITCHYARD_SECRET_KEY", default="dev-only-insecure-key-never-use-in-production" if DEBUG else environ.Env.NOTSET
)
ALLOWED_HOSTS = env.list("SWITCHYARD_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

KAFKA_BOOTSTRAP = env.str("SWITCHYARD_KAFKA_BOOTSTRAP", default="127.0.0.1:9092")
# How long a request may wait for Kafka (topic provisioning, spec publishing) before it fails clearly.
KAFKA_TIMEOUT_S = env.float("SWITCHYARD_KAFKA_TIMEOUT_S", default=10.0)
KAFKA_REPLICATION_FACTOR = env.int("SWITCHYARD_REPLICATION_FACTOR", default=1)

# Destinations whose URL resolves to a private, loopback or link-local address are refused, unless the address is
# inside one of these networks (CIDR), or SWITCHYARD_ALLOW_PRIVATE_DESTINATIONS is true (as the worker reads it).
DESTINATION_ALLOWED_NETWORKS = env.list("SWITCHYARD_DESTINATION_ALLOWED_NETWORKS", default=[])
ALLOW_PRIVATE_DESTINATIONS = env.bool("SWITCHYARD_ALLOW_PRIVATE_DESTINATIONS", default=False)

# The outbox relay: how often the long-running relay polls, and how many rows it publishes per round.
OUTBOX_POLL_INTERVAL_S = env.float("SWITCHYARD_OUTBOX_POLL_INTERVAL_S", default=1.0)
OUTBOX_BATCH_SIZE = env.int("SWITCHYARD_OUTBOX_BATCH_SIZE", default=200)
# After a commit that wrote outbox rows, this process publishes them at once in a background thread (best effort;
# the run_outbox_relay process catches up on anything this misses).
OUTBOX_PUBLISH_ON_COMMIT = env.bool("SWITCHYARD_OUTBOX_PUBLISH_ON_COMMIT", default=True)

INSTALLED_APPS = [
    "control.core.admin_site.SwitchyardAdminConfig",  # django.contrib.admin with our workspace-aware site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "control.core",
    "control.workspaces",
    "control.audit",
    "control.outbox",
    "control.streams",
    "control.schemas",
    "control.mappings",
    "control.destinations",
    "control.pipelines",
    "control.dlq",
    "control.replay",
    "control.monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "control.core.correlation.CorrelationIdMiddleware",
    "control.monitoring.metrics.MetricsMiddleware",
]

ROOT_URLCONF = "control.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "control.wsgi.application"

DATABASES = {
    "default": env.db_url("SWITCHYARD_DATABASE_URL", default=f"sqlite:///{BASE_DIR / '.local' / 'control.sqlite3'}")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# JSON lines (python-json-logger) with the correlation id, or text; the worker reads the same variable.
LOG_FORMAT = env.str("SWITCHYARD_LOG_FORMAT", default="json")
from control.monitoring.logs import logging_config  # noqa: E402  (stdlib + python-json-logger only)

LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("SWITCHYARD_LOG_LEVEL", default="INFO"))

# DLQ triage and replay (control/dlq, control/replay) and the status consumer (control/monitoring).
REPLAY_DEFAULT_RATE_PER_S = env.float("SWITCHYARD_REPLAY_DEFAULT_RATE_PER_S", default=50.0)
REPLAY_MAX_RATE_PER_S = env.float("SWITCHYARD_REPLAY_MAX_RATE_PER_S", default=1000.0)
REPLAY_DRY_RUN_LIMIT = env.int("SWITCHYARD_REPLAY_DRY_RUN_LIMIT", default=1000)
REPLAY_LIVE_LAG_LIMIT = env.int("SWITCHYARD_REPLAY_LIVE_LAG_LIMIT", default=200)
STATS_RETENTION_MINUTES = env.int("SWITCHYARD_STATS_RETENTION_MINUTES", default=120)
STATUS_CONSUMER_METADATA_REFRESH_MS = env.int("SWITCHYARD_STATUS_CONSUMER_METADATA_REFRESH_MS", default=5000)

# The probe server of run_outbox_relay and run_status_consumer (control/core/probe_server.py): /healthz, /readyz and
# /metrics on HEALTH_HOST and each command's port (0 disables it). /healthz answers 503 once the command's loop has
# not finished a round for HEALTH_STALL_S.
HEALTH_HOST = env.str("SWITCHYARD_HEALTH_HOST", default="127.0.0.1")
HEALTH_STALL_S = env.float("SWITCHYARD_HEALTH_STALL_S", default=60.0)
OUTBOX_RELAY_HEALTH_PORT = env.int("SWITCHYARD_RELAY_HEALTH_PORT", default=8011)
STATUS_CONSUMER_HEALTH_PORT = env.int("SWITCHYARD_STATUS_HEALTH_PORT", default=8012)
# When set, every /metrics (control plane, probes, workers: the same variable) needs `Authorization: Bearer <it>`.
METRICS_TOKEN = env.str("SWITCHYARD_METRICS_TOKEN", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        # The browsable API and the docs page work with the admin's session.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "control.core.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("SWITCHYARD_API_THROTTLE_ANON", default="300/min"),
        "user": env.str("SWITCHYARD_API_THROTTLE_USER", default="3000/min"),
        # Token endpoints: password guessing is what this slows down.
        "auth": env.str("SWITCHYARD_API_THROTTLE_AUTH", default="30/min"),
    },
    "EXCEPTION_HANDLER": "control.core.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("SWITCHYARD_JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("SWITCHYARD_JWT_REFRESH_DAYS", default=7)),
    # A refresh returns a new refresh token and blacklists the old one: a stolen refresh token works once.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard control plane API",
    "DESCRIPTION": "Workspaces, streams, schemas, mappings, destinations, pipelines and ingest keys.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Pipelines and replay jobs both have a "state" field, with different choices: name each set.
    "ENUM_NAME_OVERRIDES": {
        "ReplayStateEnum": "control.replay.choices.ReplayState",
        "PipelineStateEnum": "control.pipelines.choices.PipelineState",
    },
}
