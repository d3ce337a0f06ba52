"""Shared helpers of the GraphQL tests: a generated data set and a client that posts to ``/graphql``."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from server.studies.demo_data import generate_studies
from tests.conftest import bearer_headers, studies_in_database

ROWS = 1200
SEED = 23


@pytest.fixture(scope="module", name="rows")
def rows_fixture(django_db_setup, django_db_blocker) -> list[dict]:
    """ROWS generated studies in the database for the module, as dicts for independent computations."""
    with studies_in_database(list(generate_studies(ROWS, seed=SEED)), django_db_blocker) as loaded:
        yield loaded


def post(query: str, variables: dict | None = None, headers: dict | None = None) -> tuple[int, dict, object]:
    """POST a GraphQL request as an admin (unless ``headers`` say otherwise): (status, body, response).

    Access control itself is tested in test_auth_graphql.py.
    """
    headers = {"Authorization": _admin_authorization(), **(headers or {})}
    response = Client().post(
        "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        headers=headers or {},
    )
    return response.status_code, json.loads(response.content), response


def _admin_authorization() -> str:
    return bearer_headers("admin", username=f"graphql-admin-{uuid.uuid4().hex[:8]}")["HTTP_AUTHORIZATION"]


def gql(query: str, variables: dict | None = None) -> dict:
    """The data of a request that must succeed."""
    status, body, _ = post(query, variables)
    assert "errors" not in body, body["errors"]
    assert status == 200
    return body["data"]


def gql_errors(query: str, variables: dict | None = None) -> list[dict]:
    """The errors of a request that must fail."""
    _, body, _ = post(query, variables)
    assert body.get("errors"), body
    return body["errors"]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def wall_clock(value) -> str | None:
    """The API's rendering of a datetime, computed independently of the scalar."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S")
