"""Control plane settings. Every value comes from a SWITCHYARD_* variable (see .env.example)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

SWITCHYARD_ENV = env.str("SWITCHYARD_ENV", default="dev")
DEBUG = env.bool("SWITCHYARD_DEBUG", default=SWITCHYARD_ENV == "dev")
# Production has no default: the process refuses to start without a key.
SECRET_KEY = env.str("SWITCHYARD_SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("SWITCHYARD_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

KAFKA_BOOTSTRAP = env.str("SWITCHYARD_KAFKA_BOOTSTRAP", default="127.0.0.1:9092")
# How long a request may wait for Kafka (topic provisioning, spec publishing) before it fails clearly.
KAFKA_TIMEOUT_S = env.float("SWITCHYARD_KAFKA_TIMEOUT_S", default=10.0)
KAFKA_REPLICATION_FACTOR = env.int("SWITCHYARD_REPLICATION_FACTOR", default=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "control.core",
    "control.workspaces",
    "control.pipelines",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"switchyard": {"handlers": ["console"], "level": env.str("SWITCHYARD_LOG_LEVEL", default="INFO")}},
}
