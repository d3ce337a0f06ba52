"""Schemathesis over the REST API's own OpenAPI document: generated requests to every operation, as an
authenticated admin, and not one server error (5xx) in answer; every error is JSON.

In-process, bounded: a couple of dozen examples per operation, so the whole run takes well under a minute.
Each generated case is sent through Django's test client, inside the test's transaction.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.core import NOT_SET

from tests.conftest import bearer_headers

EXAMPLES_PER_OPERATION = 15


def _openapi_document() -> dict:
    """What GET /api/v1/openapi.json serves (read at collection time, before the test hosts are allowed)."""
    from django.db import connections
    from ninja.responses import NinjaJSONEncoder

    from rest_compat.api import api

    document = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    # Importing the API may have connected to the configured database, before the test database exists.
    connections.close_all()
    return document


schema = schemathesis.openapi.from_dict(_openapi_document())


@pytest.fixture
def admin_client(transactional_db) -> Client:
    # Not inside a test transaction: rest_compat's JsonErrorsMiddleware closes a response it replaces (the
    # 405 page of a TRACE, say), which sends request_finished in the middle of the request, and Django then
    # closes a connection that is not in autocommit mode, as a test transaction's is not.
    return Client(raise_request_exception=False, **bearer_headers("admin", username="schemathesis-admin"))


def send(client: Client, case):
    query = urlencode(case.query or {}, doseq=True)
    path = case.formatted_path + ("?" + query if query else "")
    headers = {key: value for key, value in (case.headers or {}).items() if key.lower() != "authorization"}
    if case.body is None or case.body is NOT_SET:
        return client.generic(case.method, path, headers=headers)
    if case.media_type == "application/x-www-form-urlencoded" and isinstance(case.body, dict):
        body = urlencode(case.body, doseq=True)
    else:
        body = json.dumps(case.body)
    return client.generic(case.method, path, body, content_type=case.media_type, headers=headers)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case, admin_client):
    if case.path == "/api/v1/auth/logout":
        return  # would revoke the token the other examples use; logout has its own tests
    response = send(admin_client, case)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code < 500, (case.method, case.formatted_path, case.query, content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), content[:300]
        assert "detail" in json.loads(content)
