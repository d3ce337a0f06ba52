"""Reading configuration from the environment.

Settings are twelve-factor: every deployment-specific value comes from an environment variable, optionally
seeded from a ``.env`` file beside ``manage.py``. A misconfiguration must stop the process with one line that
names the variable, because the operator reading a systemd journal needs the variable, not a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigurationError(Exception):
    """A variable is missing or malformed; the message names it and says what is expected."""


def load_dotenv(path: Path) -> None:
    """Seed ``os.environ`` from a ``KEY=VALUE`` file; variables already set in the environment win."""
    if not path.is_file():
        return
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"{path.name} line {number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(key.strip(), value)


def get_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def get_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")


def get_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {number}")
    return number


def get_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
}


def parse_database_url(name: str, url: str) -> dict:
    """Turn ``postgresql://user:pass@host:port/db?sslmode=require`` into a Django DATABASES entry.

    The message of a malformed URL names the variable but never echoes the URL: it may carry a password.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{name} is malformed: cannot parse it as a URL") from None
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ConfigurationError(
            f"{name} is malformed: scheme must be postgresql://, not {parts.scheme or 'none'!r}"
        )
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigurationError(f"{name} is malformed: it names no database (postgresql://HOST/DATABASE)")
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": engine,
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(port or ""),
        "OPTIONS": options,
    }


def exit_on_configuration_error(error: ConfigurationError) -> None:
    """Stop start-up with one clear line on stderr (no traceback) and the conventional exit code 78."""
    sys.stderr.write(f"Configuration error: {error}\n")
    sys.exit(78)
