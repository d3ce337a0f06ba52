"""Every variable the product reads from its environment, declared once and validated by pydantic-settings.

Settings are twelve-factor: each deployment-specific value comes from an environment variable, optionally
seeded from a ``.env`` file beside ``manage.py`` (the environment wins; an empty value means the default, as
``NAME=`` in ``.env.example`` is meant). ``server.settings``, ``gunicorn.conf.py`` and ``tools/backup.py``
read the same ``Environment``; ``.env.example`` documents each variable.

A misconfiguration stops the process with one line that names the variable, because the operator reading a
systemd journal needs the variable, not a traceback: ``load`` turns pydantic's errors into that line (exit
code 78, ``exit_on_configuration_error``), in the project's own words, and never repeats the value of a
variable that may hold a secret.
"""

from __future__ import annotations

import ipaddress
import sys
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values that may carry a password or a key: an error names them but never shows them.
_SECRET = frozenset({"SECRET_KEY", "DATABASE_URL", "DATABASE_REPLICA_URLS", "METRICS_TOKEN"})
_XLSX_ROW_LIMIT = 1_048_575  # Excel's own last data row


class ConfigurationError(Exception):
    """A variable is missing or malformed; the message names it and says what is expected."""


def _comma_separated(value: object) -> object:
    """``a, b`` is ``["a", "b"]``; a value of spaces alone means the default, as for every variable."""
    if isinstance(value, str):
        if not value.strip():
            raise PydanticUseDefault
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _stripped(value: object) -> object:
    """Spaces around a value are not part of it, and a value of spaces alone means the default."""
    if isinstance(value, str):
        if not value.strip():
            raise PydanticUseDefault
        return value.strip()
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_separated)]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Flag = Annotated[bool, BeforeValidator(_stripped)]
Count = Annotated[int, Field(ge=0), BeforeValidator(_stripped)]
Positive = Annotated[int, Field(ge=1), BeforeValidator(_stripped)]


class Environment(BaseSettings):
    """The variables, their types, defaults and bounds. A default of None is worked out from others in
    ``server.settings`` (the hosts from DEBUG, HSTS from BEHIND_TLS_PROXY, ...)."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", env_file_encoding="utf-8"
    )

    # Django and the database
    DEBUG: Flag = False
    SECRET_KEY: str | None = None
    ALLOWED_HOSTS: Annotated[list[str] | None, NoDecode, BeforeValidator(_comma_separated)] = None
    TIME_ZONE: str = "Asia/Taipei"
    VAR_DIR: Path | None = None
    DATABASE_URL: str | None = None
    DATABASE_REPLICA_URLS: CommaList = []
    DATABASE_CONNECT_TIMEOUT: Positive = 2
    STATEMENT_TIMEOUT_MS: Count = 5000
    CACHED_QUERY_TIMEOUT_MS: Count = 20000
    # Logs and metrics
    LOG_LEVEL: Annotated[LogLevel, BeforeValidator(_upper)] = "INFO"
    LOG_FORMAT: Annotated[Literal["json", "text"] | None, BeforeValidator(_lower)] = None
    METRICS_ENABLED: Flag = False
    METRICS_TOKEN: str = ""
    METRICS_ALLOWED_ADDRESSES: CommaList = ["127.0.0.1", "::1"]
    METRICS_DIR: Path | None = None
    # Access
    ACCESS_TOKEN_TTL_HOURS: Positive = 12
    ALLOW_ANONYMOUS_READ: Flag = False
    LOGIN_THROTTLE_WINDOW_MINUTES: Positive = 15
    LOGIN_THROTTLE_MAX_PER_USERNAME: Positive = 5
    LOGIN_THROTTLE_MAX_PER_CLIENT: Positive = 20
    # APIs
    GRAPHQL_INTROSPECTION: Flag = False
    EXPORT_XLSX_MAX_ROWS: Annotated[Positive, Field(le=_XLSX_ROW_LIMIT)] = 100_000
    EXPORT_CSV_MAX_ROWS: Count = 0
    CORS_ALLOWED_ORIGINS: CommaList = []
    # Serving behind the TLS proxy
    BEHIND_TLS_PROXY: Flag = False
    TRUSTED_PROXY_ADDRESSES: CommaList = ["127.0.0.1", "::1"]
    SECURE_SSL_REDIRECT: Flag | None = None
    SECURE_HSTS_SECONDS: Count | None = None
    SECURE_HSTS_INCLUDE_SUBDOMAINS: Flag = True
    SECURE_HSTS_PRELOAD: Flag = False
    GUNICORN_BIND: CommaList = ["127.0.0.1:8000"]
    GUNICORN_WORKERS: Positive | None = None
    GUNICORN_TIMEOUT: Positive = 120
    GUNICORN_GRACEFUL_TIMEOUT: Positive = 30
    # Backups
    BACKUP_DIR: Path | None = None

    @field_validator("TIME_ZONE")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"must be a known IANA zone, not {value!r}") from None
        return value

    @field_validator("CORS_ALLOWED_ORIGINS")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            scheme, _, rest = origin.partition("://")
            if scheme not in {"http", "https"} or not rest or "/" in rest:
                raise ValueError(f"must list origins like https://host[:port], not {origin!r}")
        return origins

    @field_validator("METRICS_ALLOWED_ADDRESSES")
    @classmethod
    def _networks(cls, networks: list[str]) -> list[str]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"must list addresses or networks (10.0.0.0/8), not {network!r}") from None
        return networks


def load(env_file: Path | None = None) -> Environment:
    """The environment, over the variables of ``env_file`` (a ``.env``) where it has them."""
    try:
        return Environment(_env_file=env_file if env_file is not None and env_file.is_file() else None)
    except ValidationError as error:
        raise ConfigurationError("; ".join(_describe(item) for item in error.errors())) from None


def _describe(error: dict) -> str:
    """One of pydantic's errors in the project's words: ``NAME must be ..., not 'value'``."""
    name = str(error["loc"][0]) if error["loc"] else "the environment"
    kind, context = error["type"], error.get("ctx", {})
    if kind == "value_error":  # the validators above already say "must ..."
        return f"{name} {str(error['msg']).removeprefix('Value error, ')}"
    expected = {
        "bool_parsing": "must be true or false",
        "int_parsing": "must be a whole number",
        "greater_than_equal": f"must be at least {context.get('ge')}",
        "less_than_equal": f"must be at most {context.get('le')}",
        "literal_error": f"must be {context.get('expected', '').replace(chr(39), '')}",
    }.get(kind, f"is malformed: {error['msg']}")
    value = error.get("input")
    if name in _SECRET or not isinstance(value, str | int):
        return f"{name} {expected}"
    return f"{name} {expected}, not {value!r}"


def parse_database_url(name: str, url: str) -> dict:
    """Turn ``postgresql://user:pass@host:port/db?sslmode=require`` into a Django DATABASES entry.

    The message of a malformed URL names the variable but never echoes the URL: it may carry a password.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{name} is malformed: cannot parse it as a URL") from None
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ConfigurationError(
            f"{name} is malformed: scheme must be postgresql://, not {parts.scheme or 'none'!r}"
        )
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigurationError(f"{name} is malformed: it names no database (postgresql://HOST/DATABASE)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
    }


def exit_on_configuration_error(error: ConfigurationError) -> None:
    """Stop start-up with one clear line on stderr (no traceback) and the conventional exit code 78."""
    sys.stderr.write(f"Configuration error: {error}\n")
    sys.exit(78)
