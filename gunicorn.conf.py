"""gunicorn's production configuration: ``.venv/bin/gunicorn`` in this folder reads it by itself.

``server.wsgi:application`` behind nginx (deploy/). Every value can be changed through the environment (or
the ``.env`` file beside this one). ``kill -HUP <master pid>`` (systemd: ``systemctl reload``) re-reads this
file and replaces the workers gracefully, each finishing its request first, with no dropped connections.
"""

from __future__ import annotations

import os
from pathlib import Path

from server.core.environment import ConfigurationError, exit_on_configuration_error, load

ROOT = Path(__file__).resolve().parent

try:
    ENV = load(ROOT / ".env")  # the application's own variables (server/core/environment.py)
except ConfigurationError as error:
    exit_on_configuration_error(error)

wsgi_app = "server.wsgi:application"
# Loopback only by default: nginx (deploy/nginx.conf) terminates TLS and forwards here.
bind = ENV.GUNICORN_BIND or ["127.0.0.1:8000"]  # "," lists nothing: never a server with no listener
# Sync workers: each answers one request at a time, and the API's work is database-bound, so 2 per CPU (plus
# one) keeps the CPUs busy while others wait on PostgreSQL. CPUs this process may use, not the host's.
workers = ENV.GUNICORN_WORKERS or 2 * len(os.sched_getaffinity(0)) + 1
# A worker silent this long is killed and replaced. Generous: a 100,000-row XLSX export takes tens of seconds,
# and a sync worker streaming a large CSV export is busy the whole time.
timeout = ENV.GUNICORN_TIMEOUT
# On HUP or TERM, a worker has this long to finish its request before it is killed.
graceful_timeout = ENV.GUNICORN_GRACEFUL_TIMEOUT
keepalive = 5
# Requests larger than this in their request line or headers are refused (gunicorn's own 400).
limit_request_line = 8190
# The application writes one JSON line per request (server.core.request_log) with the request id and
# without the query string, which may hold patient names; gunicorn's own access log would print it.
accesslog = None
errorlog = "-"
loglevel = ENV.LOG_LEVEL.lower()
# Workers import the application after the fork, so a HUP loads new code too.
preload_app = False
proc_name = "radiology-studies"
# gunicorn 25+ opens a control socket under $HOME by default; systemd's HUP and TERM are enough.
control_socket_disable = True

METRICS_ENABLED = ENV.METRICS_ENABLED
if METRICS_ENABLED:
    # In the environment before prometheus_client is imported, which the workers do after the fork.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(ENV.METRICS_DIR or (ENV.VAR_DIR or ROOT / "var") / "metrics")

if (ENV.LOG_FORMAT or ("text" if ENV.DEBUG else "json")) == "json":
    # gunicorn's own lines (start, worker boot and exit, timeouts) as JSON too, like the application's.
    # A whole configuration: gunicorn merges only the top-level keys of this dict into its defaults.
    _json_stderr = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            # With a logconfig_dict gunicorn logs access lines whatever accesslog says: silence them here.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {"console": _json_stderr, "error_console": _json_stderr},
        "formatters": {"json": {"()": "server.core.request_log.JsonFormatter"}},
    }


def on_starting(server) -> None:
    """Empty the metrics folder once, at start: the files of the previous run's workers are stale."""
    if METRICS_ENABLED:
        folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        # Only prometheus_client's own files, should METRICS_DIR be pointed at a folder holding anything else.
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    """Tell prometheus_client that a worker is gone, so its live gauges stop counting."""
    if METRICS_ENABLED:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    """Load the URL map (both APIs, their schemas) before the worker takes requests, not during the first one,
    which would otherwise wait seconds; an import error then stops the worker at boot, in the log."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the attribute loads the URL modules
