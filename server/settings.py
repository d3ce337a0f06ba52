"""Django settings, all drawn from the environment (see ``.env.example`` for every variable).

Time: every datetime this product handles is the hospital's wall-clock time in ``TIME_ZONE``, as in the source
data and the legacy REST contract, so ``USE_TZ`` is off. Study times are stored in ``timestamp without time
zone`` columns (``WallClockDateTimeField``) and never pass through a zone conversion; instants recorded by the
application itself (import times) are ``timestamptz`` columns that Django reads in ``TIME_ZONE``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from server import env

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    env.load_dotenv(BASE_DIR / ".env")
    VAR_DIR = Path(env.get_str("VAR_DIR", str(BASE_DIR / "var")))

    DEBUG = env.get_bool("DEBUG", False)
    SECRET_KEY = env.get_str("SECRET_KEY")
    if not SECRET_KEY:
        if not DEBUG:
            raise env.ConfigurationError(
                "SECRET_KEY is not set; production settings need a long random value "
                "(or set DEBUG=true for local development)"
            )
        SECRET_KEY = "dev-only-" + secrets.token_urlsafe(32)

    ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
    TIME_ZONE = env.get_str("TIME_ZONE", "Asia/Taipei")
    LOG_LEVEL = (env.get_str("LOG_LEVEL", "INFO") or "INFO").upper()
    if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise env.ConfigurationError(
            f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}"
        )

    _database_url = env.get_str("DATABASE_URL")
    if _database_url:
        _default_db = env.parse_database_url("DATABASE_URL", _database_url)
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _default_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "studies.sqlite3")}
except env.ConfigurationError as error:
    env.exit_on_configuration_error(error)

try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    env.exit_on_configuration_error(
        env.ConfigurationError(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA zone")
    )

if _default_db["ENGINE"].endswith("postgresql"):
    # Reuse connections for a minute and check them before use, so a restarted database is survived.
    _default_db.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = False
USE_I18N = False
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "server.studies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"
ASGI_APPLICATION = "server.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's request logger would print the URL (and so search terms, which may be patient names).
    "loggers": {"django.request": {"level": "ERROR"}, "django.server": {"level": "WARNING"}},
}
