"""Django settings, all drawn from the environment (see ``.env.example`` for every variable).

Time: every datetime this product handles is the hospital's wall-clock time in ``TIME_ZONE``, as in the source
data and the legacy REST contract, so ``USE_TZ`` is off. Study times are stored in ``timestamp without time
zone`` columns (``WallClockDateTimeField``) and never pass through a zone conversion; instants recorded by the
application itself (import times) are ``timestamptz`` columns that Django reads in ``TIME_ZONE``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from server.core import local_postgres, static_files
from server.core.environment import ConfigurationError, exit_on_configuration_error, load, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    # Every variable, typed and bounded in one place (server/core/environment.py; .env.example).
    ENV = load(BASE_DIR / ".env")
    VAR_DIR = ENV.VAR_DIR or BASE_DIR / "var"
    DEBUG = ENV.DEBUG
    SECRET_KEY = ENV.SECRET_KEY
    if not SECRET_KEY:
        if not DEBUG:
            raise ConfigurationError(
                "SECRET_KEY is not set; production settings need a long random value "
                "(or set DEBUG=true for local development)"
            )
        SECRET_KEY = "dev-only-" + secrets.token_urlsafe(32)
    # Unset: the local cluster that `make run` keeps in VAR_DIR/postgres, while it runs (for a manage.py
    # command in a second terminal). Production always names its server.
    _database_url = ENV.DATABASE_URL or local_postgres.running_url(VAR_DIR / "postgres")
    if not _database_url:
        raise ConfigurationError(
            "DATABASE_URL is not set and no local PostgreSQL runs in VAR_DIR/postgres: "
            "`make run` starts one, or set DATABASE_URL=postgresql://USER@HOST/DATABASE"
        )
    _default_db = parse_database_url("DATABASE_URL", _database_url)
    # PostgreSQL streaming replicas that serve reads of studies (server/core/routers.py).
    _replicas = {
        f"replica_{number}": parse_database_url("DATABASE_REPLICA_URLS", url)
        for number, url in enumerate(ENV.DATABASE_REPLICA_URLS, start=1)
    }
except ConfigurationError as error:
    exit_on_configuration_error(error)

# GraphQL schema introspection (and GraphiQL's docs) in production; it is always on with DEBUG.
GRAPHQL_INTROSPECTION = ENV.GRAPHQL_INTROSPECTION
if ENV.ALLOWED_HOSTS is not None:
    ALLOWED_HOSTS = ENV.ALLOWED_HOSTS
else:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost"] if DEBUG else []
TIME_ZONE = ENV.TIME_ZONE
LOG_LEVEL = ENV.LOG_LEVEL

# Robustness (docs/operations.md): the longest an API query may run, 0 for no limit; and how long to wait for
# a connection to the database before answering 503.
STATEMENT_TIMEOUT_MS = ENV.STATEMENT_TIMEOUT_MS
# Totals, statistics and options are computed once per import and then served from memory: one cut by the
# statement timeout is tried once more under this limit (server.core.cache); 0: none.
CACHED_QUERY_TIMEOUT_MS = ENV.CACHED_QUERY_TIMEOUT_MS
DATABASE_CONNECT_TIMEOUT = ENV.DATABASE_CONNECT_TIMEOUT


def _tune_postgres(database: dict) -> dict:
    # Reuse connections for a minute and check them before use, so a restarted database is survived; the
    # project's backend (server/core/postgresql) makes that check without a round trip to the database.
    database.update(ENGINE="server.core.postgresql", CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    # JIT compilation adds tens of milliseconds to the short searches an API runs and never pays back.
    # statement_timeout cuts a runaway query (answered 503, "narrow the search"); management commands that
    # run long on purpose (imports, demo data) lift it: server.core.db.without_statement_timeout.
    options = "-c jit=off"
    if STATEMENT_TIMEOUT_MS:
        options += f" -c statement_timeout={STATEMENT_TIMEOUT_MS}"
    database.setdefault("OPTIONS", {}).setdefault("options", options)
    # A database that is down or unreachable is reported (503) within seconds, not after the OS's timeout.
    database["OPTIONS"].setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    return database


DATABASES = {"default": _tune_postgres(_default_db)}
for _alias, _replica in _replicas.items():
    # Tests have no replica of their own: the alias then reads the test database itself.
    DATABASES[_alias] = {**_tune_postgres(_replica), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["server.core.routers.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Access control (server.access): token lifetime, the legacy-frontend escape hatch, login throttling.
ACCESS_TOKEN_TTL_HOURS = ENV.ACCESS_TOKEN_TTL_HOURS
ALLOW_ANONYMOUS_READ = ENV.ALLOW_ANONYMOUS_READ
LOGIN_THROTTLE_WINDOW_MINUTES = ENV.LOGIN_THROTTLE_WINDOW_MINUTES
LOGIN_THROTTLE_MAX_PER_USERNAME = ENV.LOGIN_THROTTLE_MAX_PER_USERNAME
LOGIN_THROTTLE_MAX_PER_CLIENT = ENV.LOGIN_THROTTLE_MAX_PER_CLIENT

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

USE_TZ = False
USE_I18N = False
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "whitenoise.runserver_nostatic",  # runserver leaves /static/ to WhiteNoise too: one way in dev and prod
    "django.contrib.staticfiles",
    "server.core",  # plumbing: the data version, the request scope, `migrate` without the statement timeout
    "server.studies",
    "server.reports",  # reports and their versions, linked to studies by exam_id
    "ninja",  # its templates and static files (/api/v1/docs serves its Swagger UI files itself)
    "corsheaders",
    "server.access",
    "importers",
    "graphql_schema",  # its system check of the GraphQL libraries' versions (graphql_schema/versions.py)
]

MIDDLEWARE = [
    # The client's address behind nginx, before anything reads it.
    "server.core.middleware.ProxiedClientAddressMiddleware",
    "server.core.middleware.RequestIdMiddleware",  # first: every response, errors included, carries the id
    "server.core.request_log.RequestLogMiddleware",  # one line per request, with the status the client gets
    "server.core.metrics.MetricsMiddleware",  # does nothing unless METRICS_ENABLED
    "server.core.request_scope.RequestScopeMiddleware",  # the data version and replica, once per request
    "django.middleware.security.SecurityMiddleware",
    "server.core.static_files.StaticFilesMiddleware",  # WhiteNoise, right after the security headers
    "corsheaders.middleware.CorsMiddleware",
    "rest_compat.middleware.JsonErrorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The REST facade (rest_compat): export limits and the legacy frontend's origins. openpyxl's write-only mode
# keeps memory flat, but time and file size grow with the rows, and Excel itself stops at 1,048,575 data rows:
# larger exports are refused with the count, never truncated. CSV is streamed in constant memory; 0: no limit.
EXPORT_XLSX_MAX_ROWS = ENV.EXPORT_XLSX_MAX_ROWS
EXPORT_CSV_MAX_ROWS = ENV.EXPORT_CSV_MAX_ROWS
CORS_ALLOWED_ORIGINS = ENV.CORS_ALLOWED_ORIGINS
# The frontend reads the export's file name from Content-Disposition.
CORS_EXPOSE_HEADERS = ["Content-Disposition"]

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

# Production serving (docs/operations.md): HTTPS behind a TLS-terminating reverse proxy, security headers,
# static files, log format and metrics. BEHIND_TLS_PROXY is on only when a proxy that terminates TLS
# (deploy/nginx.conf) is the sole way in: then its X-Forwarded-Proto says whether the client used HTTPS, and
# its X-Real-IP who the client is.
BEHIND_TLS_PROXY = ENV.BEHIND_TLS_PROXY
TRUSTED_PROXY_ADDRESSES = ENV.TRUSTED_PROXY_ADDRESSES
SECURE_SSL_REDIRECT = BEHIND_TLS_PROXY if ENV.SECURE_SSL_REDIRECT is None else ENV.SECURE_SSL_REDIRECT
SECURE_HSTS_SECONDS = (31_536_000 if BEHIND_TLS_PROXY else 0) if ENV.SECURE_HSTS_SECONDS is None else (
    ENV.SECURE_HSTS_SECONDS
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = ENV.SECURE_HSTS_INCLUDE_SUBDOMAINS
SECURE_HSTS_PRELOAD = ENV.SECURE_HSTS_PRELOAD
LOG_FORMAT = ENV.LOG_FORMAT or ("text" if DEBUG else "json")
METRICS_ENABLED = ENV.METRICS_ENABLED
METRICS_TOKEN = ENV.METRICS_TOKEN
METRICS_ALLOWED_ADDRESSES = ENV.METRICS_ALLOWED_ADDRESSES
METRICS_DIR = ENV.METRICS_DIR or VAR_DIR / "metrics"

if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes and Prometheus talk plain HTTP to gunicorn on loopback; they are not redirected.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$", r"^metrics$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    # CSRF protects cookie-authenticated forms; both APIs authenticate by a bearer token in a header, which
    # a browser never adds to a cross-site request, and set no session cookie.
    "security.W003",
]
if not SECURE_HSTS_PRELOAD:
    # Preloading is for public domains submitted to the browsers' list, not a hospital's intranet host.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# WhiteNoise is the one server of static files (server.core.static_files): from the apps' folders with or
# without DEBUG, and the compressed copies (gzip, Brotli when installed) that collectstatic makes.
WHITENOISE_USE_FINDERS = True
WHITENOISE_ADD_HEADERS_FUNCTION = static_files.add_headers
WHITENOISE_IMMUTABLE_FILE_TEST = static_files.is_immutable
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

if METRICS_ENABLED:
    # prometheus_client's multiprocess mode: gunicorn.conf.py sets the same folder for the server (and empties
    # it at start); a management command such as an import adds its counts there too.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(METRICS_DIR))
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "server.core.request_log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's request logger would print the URL (and so search terms, which may be patient names).
    "loggers": {"django.request": {"level": "ERROR"}, "django.server": {"level": "WARNING"}},
}
