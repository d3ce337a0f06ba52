"""Django settings, all drawn from the environment (see ``.env.example`` for every variable).

Time: every datetime this product handles is the hospital's wall-clock time in ``TIME_ZONE``, as in the source
data and the legacy REST contract, so ``USE_TZ`` is off. Study times are stored in ``timestamp without time
zone`` columns (``WallClockDateTimeField``) and never pass through a zone conversion; instants recorded by the
application itself (import times) are ``timestamptz`` columns that Django reads in ``TIME_ZONE``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from server.core import env, local_postgres, static_files

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

    # GraphQL schema introspection (and GraphiQL's docs) in production; it is always on with DEBUG.
    GRAPHQL_INTROSPECTION = env.get_bool("GRAPHQL_INTROSPECTION", False)
    ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
    TIME_ZONE = env.get_str("TIME_ZONE", "Asia/Taipei")
    LOG_LEVEL = (env.get_str("LOG_LEVEL", "INFO") or "INFO").upper()
    if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise env.ConfigurationError(
            f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}"
        )

    # Robustness (docs/operations.md): the longest an API query may run, 0 for no limit; and how long to wait
    # for a connection to the database before answering 503.
    STATEMENT_TIMEOUT_MS = env.get_int("STATEMENT_TIMEOUT_MS", 5000)
    # Totals, statistics and options are computed once per import and then served from memory: one cut by
    # the statement timeout is tried once more under this limit (server.core.cache); 0: none.
    CACHED_QUERY_TIMEOUT_MS = env.get_int("CACHED_QUERY_TIMEOUT_MS", 20000)
    DATABASE_CONNECT_TIMEOUT = env.get_int("DATABASE_CONNECT_TIMEOUT", 2, minimum=1)
    # Unset: the local cluster that `make run` keeps in VAR_DIR/postgres, while it runs (for a manage.py
    # command in a second terminal). Production always names its server.
    _database_url = env.get_str("DATABASE_URL") or local_postgres.running_url(VAR_DIR / "postgres")
    if not _database_url:
        raise env.ConfigurationError(
            "DATABASE_URL is not set and no local PostgreSQL runs in VAR_DIR/postgres: "
            "`make run` starts one, or set DATABASE_URL=postgresql://USER@HOST/DATABASE"
        )
    _default_db = env.parse_database_url("DATABASE_URL", _database_url)
except env.ConfigurationError as error:
    env.exit_on_configuration_error(error)

try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    env.exit_on_configuration_error(
        env.ConfigurationError(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA zone")
    )

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


try:
    # PostgreSQL streaming replicas that serve reads of studies (server/core/routers.py); comma-separated.
    _replicas = {
        f"replica_{number}": env.parse_database_url("DATABASE_REPLICA_URLS", url)
        for number, url in enumerate(env.get_list("DATABASE_REPLICA_URLS"), start=1)
    }
except env.ConfigurationError as error:
    env.exit_on_configuration_error(error)
DATABASES = {"default": _tune_postgres(_default_db)}
for _alias, _replica in _replicas.items():
    # Tests have no replica of their own: the alias then reads the test database itself.
    DATABASES[_alias] = {**_tune_postgres(_replica), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["server.core.routers.ReadReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

try:
    # Access control (server.access): token lifetime, the legacy-frontend escape hatch, login throttling.
    ACCESS_TOKEN_TTL_HOURS = env.get_int("ACCESS_TOKEN_TTL_HOURS", 12, minimum=1)
    ALLOW_ANONYMOUS_READ = env.get_bool("ALLOW_ANONYMOUS_READ", False)
    LOGIN_THROTTLE_WINDOW_MINUTES = env.get_int("LOGIN_THROTTLE_WINDOW_MINUTES", 15, minimum=1)
    LOGIN_THROTTLE_MAX_PER_USERNAME = env.get_int("LOGIN_THROTTLE_MAX_PER_USERNAME", 5, minimum=1)
    LOGIN_THROTTLE_MAX_PER_CLIENT = env.get_int("LOGIN_THROTTLE_MAX_PER_CLIENT", 20, minimum=1)
except env.ConfigurationError as error:
    env.exit_on_configuration_error(error)

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

# The REST facade (rest_compat): export limits and the legacy frontend's origins.
try:
    # openpyxl's write-only mode keeps memory flat, but time and file size grow with the rows; Excel itself
    # stops at 1,048,575 data rows. Larger exports are refused with the count, never truncated.
    EXPORT_XLSX_MAX_ROWS = env.get_int("EXPORT_XLSX_MAX_ROWS", 100_000, minimum=1)
    if EXPORT_XLSX_MAX_ROWS > 1_048_575:
        raise env.ConfigurationError(
            f"EXPORT_XLSX_MAX_ROWS must be at most 1048575 (Excel's row limit), not {EXPORT_XLSX_MAX_ROWS}"
        )
    # CSV is streamed in constant memory; 0 means no limit.
    EXPORT_CSV_MAX_ROWS = env.get_int("EXPORT_CSV_MAX_ROWS", 0)
    CORS_ALLOWED_ORIGINS = env.get_list("CORS_ALLOWED_ORIGINS", [])
    for _origin in CORS_ALLOWED_ORIGINS:
        _scheme, _, _rest = _origin.partition("://")
        if _scheme not in {"http", "https"} or not _rest or "/" in _rest:
            raise env.ConfigurationError(
                f"CORS_ALLOWED_ORIGINS must list origins like https://host[:port], not {_origin!r}"
            )
except env.ConfigurationError as error:
    env.exit_on_configuration_error(error)
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

def _bool_or_default(name: str, default: bool) -> bool:
    """An empty value (``NAME=`` as in .env.example) means the default, not false."""
    return env.get_bool(name, default) if env.get_str(name, "").strip() else default


def _list_or_default(name: str, default: list[str]) -> list[str]:
    return env.get_list(name, default) if env.get_str(name, "").strip() else default


# Production serving (docs/operations.md): HTTPS behind a TLS-terminating reverse proxy,
# security headers, static files, log format and metrics.
try:
    # On only when a proxy that terminates TLS (deploy/nginx.conf) is the sole way in: then its
    # X-Forwarded-Proto says whether the client used HTTPS, and its X-Real-IP who the client is.
    BEHIND_TLS_PROXY = env.get_bool("BEHIND_TLS_PROXY", False)
    TRUSTED_PROXY_ADDRESSES = _list_or_default("TRUSTED_PROXY_ADDRESSES", ["127.0.0.1", "::1"])
    SECURE_SSL_REDIRECT = _bool_or_default("SECURE_SSL_REDIRECT", BEHIND_TLS_PROXY)
    SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 31_536_000 if BEHIND_TLS_PROXY else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool_or_default("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", False)
    LOG_FORMAT = (env.get_str("LOG_FORMAT", "text" if DEBUG else "json") or "").lower()
    if LOG_FORMAT not in {"json", "text"}:
        raise env.ConfigurationError(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
    METRICS_ENABLED = env.get_bool("METRICS_ENABLED", False)
    METRICS_TOKEN = env.get_str("METRICS_TOKEN", "") or ""
    METRICS_ALLOWED_ADDRESSES = _list_or_default("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1", "::1"])
    for _network in METRICS_ALLOWED_ADDRESSES:
        try:
            ipaddress.ip_network(_network, strict=False)
        except ValueError:
            raise env.ConfigurationError(
                f"METRICS_ALLOWED_ADDRESSES must list addresses or networks (10.0.0.0/8), not {_network!r}"
            ) from None
    METRICS_DIR = Path(env.get_str("METRICS_DIR", str(VAR_DIR / "metrics")))
except env.ConfigurationError as error:
    env.exit_on_configuration_error(error)

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
