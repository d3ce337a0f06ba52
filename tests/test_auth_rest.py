"""The contract's Authentication section on the REST API, and the audit event of every look at patients."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from psycopg import pq

from rest_compat import export
from server.access import audit, tokens
from server.access.models import AccessToken, AuditEvent
from server.access.services import create_user
from server.studies.models import Study
from tests.conftest import bearer_headers
from tests.rest_support import FIXED_STUDIES, load_fixed_studies

pytestmark = pytest.mark.django_db
PASSWORD = "a long test password 123"
DATA_ENDPOINTS = [
    "/api/v1/studies/search",
    "/api/v1/studies/20250000001",
    "/api/v1/studies/filters/options",
    "/api/v1/studies/export",
    "/api/v1/auth/me",
]
PUBLIC_ENDPOINTS = ["/api/v1/health", "/api/v1/docs", "/api/v1/openapi.json"]


@pytest.fixture
def fixed():
    load_fixed_studies()


def login(username: str, password: str = PASSWORD, address: str = "10.1.1.1"):
    return Client().post(
        "/api/v1/auth/login", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_login_returns_a_token_in_the_contracts_shape():
    create_user("alice", "viewer", PASSWORD, email="alice@hospital.invalid")
    response = login("alice")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert list(body) == ["access_token", "token_type", "expires_at", "user"]
    assert body["token_type"] == "bearer"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", body["expires_at"])
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert abs((expires - (timezone.now() + dt.timedelta(hours=12))).total_seconds()) < 60
    assert list(body["user"]) == ["user_id", "username", "email", "role"]
    assert body["user"]["username"] == "alice" and body["user"]["role"] == "viewer"
    assert isinstance(body["user"]["user_id"], str)
    me = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert json.loads(me.content) == body["user"]


def test_a_user_without_email_has_null():
    create_user("bob", "viewer", PASSWORD)
    assert json.loads(login("bob").content)["user"]["email"] is None


@pytest.mark.parametrize("username,password", [("alice", "wrong password 123"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_one_answer(username, password):
    create_user("alice", "viewer", PASSWORD)
    response = login(username, password)
    assert response.status_code == 401
    assert response.content == b'{"detail":"Invalid username or password"}'
    assert AuditEvent.objects.filter(action=audit.LOGIN_FAILED, username=username).count() == 1


def test_a_deactivated_user_cannot_log_in():
    create_user("alice", "viewer", PASSWORD)
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="alice").update(is_active=False)
    assert login("alice").status_code == 401


def test_login_needs_both_form_fields():
    response = Client().post("/api/v1/auth/login", {"username": "alice"})
    assert response.status_code == 422
    assert json.loads(response.content)["detail"][0]["loc"] == ["form", "password"]


def test_repeated_failures_are_throttled_whether_or_not_the_user_exists(settings):
    create_user("alice", "viewer", PASSWORD)
    for username in ("alice", "ghost"):
        for _ in range(settings.LOGIN_THROTTLE_MAX_PER_USERNAME):
            assert login(username, "wrong password 123").status_code == 401
        refused = login(username, PASSWORD if username == "alice" else "x")
        assert refused.status_code == 429
        assert refused.content == b'{"detail":"Too many failed login attempts; try again later"}'
    assert AuditEvent.objects.filter(action=audit.LOGIN_THROTTLED).count() == 2


@pytest.mark.parametrize("url", DATA_ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer not-a-token", "Basic YWxpY2U6eA==", "Bearer " + "x" * 500]
)
def test_no_valid_token_is_401_with_www_authenticate(fixed, url, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().get(url, **headers)
    assert response.status_code == 401
    assert response.content == b'{"detail":"Not authenticated"}'
    assert response["WWW-Authenticate"] == "Bearer"
    assert AuditEvent.objects.filter(action=audit.REFUSED, status_code=401).count() == 1


@pytest.mark.parametrize("url", PUBLIC_ENDPOINTS)
def test_health_and_docs_are_public(url):
    assert Client().get(url).status_code == 200


@pytest.mark.parametrize("url", DATA_ENDPOINTS)
def test_expired_revoked_and_deactivated_tokens_are_401(fixed, url):
    user = create_user("alice", "admin", PASSWORD)
    expired, revoked = tokens.issue_token(user), tokens.issue_token(user)
    past = timezone.now() - dt.timedelta(minutes=1)
    AccessToken.objects.filter(pk=expired.token.pk).update(expires_at=past)
    tokens.revoke_token(revoked.raw)
    live = tokens.issue_token(user)
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {live.raw}").status_code == 200
    user.is_active = False
    user.save()
    for issued in (expired, revoked, live):
        response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
        assert response.status_code == 401
        assert response.content == b'{"detail":"Not authenticated"}'


def test_roles_decide_what_a_token_may_do(fixed):
    viewer = Client(**bearer_headers("viewer"))
    assert viewer.get("/api/v1/studies/search").status_code == 200
    assert viewer.get("/api/v1/studies/20250000001").status_code == 200
    assert viewer.get("/api/v1/studies/filters/options").status_code == 200
    refused = viewer.get("/api/v1/studies/export")
    assert refused.status_code == 403 and refused.content == b'{"detail":"Not permitted"}'
    assert Client(**bearer_headers("exporter")).get("/api/v1/studies/export").status_code == 200
    for role in ("reporter", "analyst"):  # they read as viewers do, but may not export
        reader = Client(**bearer_headers(role))
        assert reader.get("/api/v1/studies/search").status_code == 200
        assert reader.get("/api/v1/studies/export").status_code == 403
        assert reader.get("/api/v1/auth/me").json()["role"] == role


def test_logout_revokes_the_token_at_once(fixed):
    create_user("alice", "viewer", PASSWORD)
    token = json.loads(login("alice").content)["access_token"]
    authorized = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert authorized.get("/api/v1/studies/search").status_code == 200
    response = authorized.post("/api/v1/auth/logout")
    assert response.status_code == 204 and response.content == b""
    assert authorized.get("/api/v1/studies/search").status_code == 401
    assert authorized.post("/api/v1/auth/logout").status_code == 401


def test_anonymous_reading_only_when_the_deployment_says_so(fixed, settings):
    assert Client().get("/api/v1/studies/search").status_code == 401
    settings.ALLOW_ANONYMOUS_READ = True
    assert Client().get("/api/v1/studies/search").status_code == 200
    assert Client().get("/api/v1/studies/export").status_code == 401
    assert Client().get("/api/v1/auth/me").status_code == 401
    event = AuditEvent.objects.filter(action=audit.STUDY_SEARCH).get()
    assert event.username == "" and event.record_count == len(FIXED_STUDIES)


def test_search_detail_and_export_are_audited_with_what_they_returned(fixed):
    headers = bearer_headers("exporter", username="carol")
    client = Client(REMOTE_ADDR="192.0.2.5", HTTP_X_REQUEST_ID="req-77", **headers)
    client.get("/api/v1/studies/search", {"q": "王小明", "page_size": 2})
    client.get("/api/v1/studies/20250000003")
    client.get("/api/v1/studies/does-not-exist")
    b"".join(client.get("/api/v1/studies/export", {"exam_source": "門診"}).streaming_content)
    events = list(AuditEvent.objects.filter(action__startswith="study.").order_by("id"))
    assert [e.action for e in events] == ["study.search", "study.detail", "study.detail", "study.export"]
    search, detail, missing, export = events
    assert (search.username, search.role, search.client_address, search.request_id) == (
        "carol",
        "exporter",
        "192.0.2.5",
        "req-77",
    )
    assert search.parameters == {"q": ["王小明"], "page_size": ["2"]}
    assert search.record_count == len(search.exam_ids) >= 1
    assert (detail.record_count, detail.exam_ids) == (1, ["20250000003"])
    assert (missing.record_count, missing.exam_ids, missing.status_code) == (0, [], 404)
    assert export.parameters == {"exam_source": ["門診"]}
    assert export.record_count == len(export.exam_ids) >= 1


def test_an_exports_event_is_written_without_the_apis_statement_timeout(fixed, monkeypatch):
    """A ten-million-row export's event (150 MB of exam_ids) takes longer to store than STATEMENT_TIMEOUT_MS;
    cut by it, the event was lost and the download broke off. The event is written with the timeout lifted,
    and the API's timeout is back for what follows."""
    from django.db import connection

    seen = []
    real = audit.record_event

    def recording(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(audit, "record_event", recording)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '5s'")  # as the API's connections have it
    client = Client(**bearer_headers("exporter", username="dave"))
    b"".join(client.get("/api/v1/studies/export", {"exam_source": "門診"}).streaming_content)
    assert seen == ["0"]
    assert AuditEvent.objects.filter(action=audit.STUDY_EXPORT, username="dave").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"


# As in production, autocommit between requests. serialized_rollback: its flush then leaves the content types
# to the next such test (test_bench_smoke) instead of recreating them under it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_abandoned_export_is_cancelled_and_audited_with_what_was_sent(monkeypatch):
    """A client that stops reading: the rows' COPY is cancelled, the connection is left idle and usable,
    and the event holds the rows that were handed out, not those the database had still to send."""
    load_fixed_studies()
    monkeypatch.setattr(export, "CSV_ROWS_PER_CHUNK", 2)
    client = Client(**bearer_headers("exporter", username="erin"))
    response = client.get("/api/v1/studies/export")
    first_piece = next(iter(response.streaming_content)).decode("utf-8-sig")
    assert connection.connection.info.transaction_status == pq.TransactionStatus.ACTIVE  # mid-COPY
    response.close()
    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    event = AuditEvent.objects.get(action=audit.STUDY_EXPORT, username="erin")
    assert event.record_count == len(event.exam_ids) == 2
    assert all(exam_id in first_piece for exam_id in event.exam_ids)
    assert Study.objects.count() == len(FIXED_STUDIES)
