"""Every response carries a request id, the client's own when it is plain, a fresh one otherwise."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_a_fresh_request_id_is_echoed(client):
    response = client.get("/api/v1/health")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get("/api/v1/health")["X-Request-ID"] != response["X-Request-ID"]


def test_a_plain_client_request_id_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/api/v1/health", HTTP_X_REQUEST_ID="lb-42.a_b")["X-Request-ID"] == "lb-42.a_b"
    replaced = client.get("/api/v1/health", HTTP_X_REQUEST_ID="王\nSet-Cookie: x")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
