"""A database connection that fails is counted in the metrics, even when the view catches the error.

Apart from test_ops_metrics.py because it must run outside a test transaction: it points the connection at a
port where nothing listens, which inside an atomic block would fail differently (a closed connection).
"""

from __future__ import annotations

from django.db import connections
from django.test import Client, override_settings
from prometheus_client import REGISTRY

from server.core.local_postgres import free_port

ON = {"METRICS_ENABLED": True, "METRICS_TOKEN": "", "METRICS_ALLOWED_ADDRESSES": ["127.0.0.1", "::1"]}


def failed_connections() -> float:
    return REGISTRY.get_sample_value("database_errors_total", {"error": "OperationalError"}) or 0.0


def test_a_refused_database_connection_is_counted_even_when_the_view_catches_it(django_db_blocker):
    """The health check catches the error and answers 503; the connection failure is still counted."""
    default = connections["default"]
    port = default.settings_dict["PORT"]
    before = failed_connections()
    with django_db_blocker.unblock(), override_settings(**ON):
        default.close()
        default.settings_dict["PORT"] = str(free_port())  # nothing listens there
        try:
            response = Client().get("/api/v1/health")
        finally:
            default.close()
            default.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert failed_connections() == before + 1
