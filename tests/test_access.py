"""Access control core: users and roles, tokens, throttling, and the append-only audit trail."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from server.access import audit, tokens
from server.access.authentication import NotAuthenticated, NotPermitted, require_role
from server.access.models import AccessToken, AppendOnlyError, AuditEvent
from server.access.roles import ADMIN, ANALYST, EXPORTER, REPORTER, ROLES, VIEWER, has_role, role_of
from server.access.services import create_user
from server.access.throttle import login_refused

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", role: str = VIEWER):
    return create_user(username, role, PASSWORD, email=f"{username}@hospital.invalid")


def request_with(token: str | None = None, address: str = "10.0.0.7"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return RequestFactory().get("/api/v1/studies/search", REMOTE_ADDR=address, **headers)


def test_create_user_reads_the_password_from_stdin_and_validates_it(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    call_command("create_user", "bob", role=EXPORTER, password_stdin=True, stdout=io.StringIO())
    user = get_user_model().objects.get(username="bob")
    assert user.check_password(PASSWORD) and role_of(user) == EXPORTER
    monkeypatch.setattr("sys.stdin", io.StringIO("12345678\n"))
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_user", "carol", role=VIEWER, password_stdin=True)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "bob", role=VIEWER, password_stdin=True)


def test_each_role_grants_reading_its_own_right_and_admin_everything():
    """Not a ladder: a reporter may not export, an exporter may not write reports."""
    users = {role: make_user(f"{role}-user", role) for role in ROLES}
    granted = {role: [has_role(users[role], right) for right in ROLES] for role in ROLES}
    # rights in ROLES order: viewer, exporter, reporter, analyst, admin
    assert granted == {
        VIEWER: [True, False, False, False, False],
        EXPORTER: [True, True, False, False, False],
        REPORTER: [True, False, True, False, False],
        ANALYST: [True, False, False, True, False],
        ADMIN: [True, True, True, True, True],
    }
    assert role_of(AnonymousUser()) is None


def test_a_user_given_several_groups_by_hand_has_the_one_that_grants_most():
    user = make_user("several", VIEWER)
    user.groups.add(*Group.objects.filter(name__in=[REPORTER, ADMIN]))
    assert role_of(user) == ADMIN


def test_a_token_is_stored_only_as_a_hash_and_resolves_to_its_user():
    user = make_user()
    issued = tokens.issue_token(user)
    assert len(issued.raw) >= 40
    assert not AccessToken.objects.filter(key_hash=issued.raw).exists()
    assert issued.raw not in json.dumps(list(AccessToken.objects.values()), default=str)
    assert tokens.user_for_token(issued.raw) == user
    expected_expiry = timezone.now() + dt.timedelta(hours=12)
    assert abs((issued.token.expires_at - expected_expiry).total_seconds()) < 60


@pytest.mark.parametrize("raw", [None, "", "x" * 500, "not-a-token", "ünïcode"])
def test_malformed_or_unknown_tokens_resolve_to_nobody(raw):
    make_user()
    assert tokens.user_for_token(raw) is None


def test_expired_revoked_deactivated_and_repassworded_tokens_stop_working():
    user = make_user()
    expired = tokens.issue_token(user)
    AccessToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert tokens.user_for_token(expired.raw) is None

    revoked = tokens.issue_token(user)
    assert tokens.revoke_token(revoked.raw)
    assert tokens.user_for_token(revoked.raw) is None

    repassworded = tokens.issue_token(user)
    user.set_password(PASSWORD + "!")
    user.save()
    assert tokens.user_for_token(repassworded.raw) is None

    live = tokens.issue_token(user)
    call_command("deactivate_user", user.username, stdout=io.StringIO())
    assert tokens.user_for_token(live.raw) is None


def test_a_role_change_revokes_existing_tokens():
    user = make_user(role=EXPORTER)
    issued = tokens.issue_token(user)
    call_command("set_role", user.username, VIEWER, stdout=io.StringIO())
    assert tokens.user_for_token(issued.raw) is None
    assert role_of(get_user_model().objects.get(pk=user.pk)) == VIEWER


def test_require_role(settings):
    viewer = make_user()
    token = tokens.issue_token(viewer).raw
    assert require_role(request_with(token), VIEWER) == viewer
    with pytest.raises(NotPermitted):
        require_role(request_with(token), EXPORTER)
    with pytest.raises(NotAuthenticated):
        require_role(request_with(None), VIEWER)
    with pytest.raises(NotAuthenticated):
        require_role(request_with("garbage"), VIEWER)


def test_anonymous_reading_only_when_the_deployment_opts_in(settings):
    settings.ALLOW_ANONYMOUS_READ = True
    assert not require_role(request_with(None), VIEWER).is_authenticated
    with pytest.raises(NotAuthenticated):
        require_role(request_with(None), EXPORTER)
    with pytest.raises(NotAuthenticated):
        require_role(request_with("garbage"), VIEWER)  # a bad token is still refused


def _fail_login(username: str, address: str) -> None:
    audit.record_event(audit.LOGIN_FAILED, 401, request=request_with(None, address), username=username)


def test_throttling_by_username_does_not_reveal_whether_it_exists(settings):
    make_user("alice")
    for _ in range(settings.LOGIN_THROTTLE_MAX_PER_USERNAME - 1):
        _fail_login("alice", "10.0.0.1")
        _fail_login("nobody", "10.0.0.1")
    assert not login_refused("alice", "10.0.0.1") and not login_refused("nobody", "10.0.0.1")
    _fail_login("alice", "10.0.0.2")
    _fail_login("nobody", "10.0.0.2")
    assert login_refused("alice", "10.0.0.9") and login_refused("nobody", "10.0.0.9")
    assert not login_refused("someone-else", "10.0.0.9")


def test_throttling_by_client_address(settings):
    settings.LOGIN_THROTTLE_MAX_PER_CLIENT = 3
    for name in ("a", "b", "c"):
        _fail_login(name, "10.9.9.9")
    assert login_refused("d", "10.9.9.9")
    assert not login_refused("d", "10.9.9.10")


def test_old_failures_fall_out_of_the_window(settings, monkeypatch):
    for _ in range(settings.LOGIN_THROTTLE_MAX_PER_USERNAME):
        _fail_login("alice", "10.0.0.1")
    assert login_refused("alice", None)
    later = timezone.now() + dt.timedelta(minutes=settings.LOGIN_THROTTLE_WINDOW_MINUTES + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # events cannot be backdated: move the clock
    assert not login_refused("alice", None)


def test_audit_events_cannot_be_changed_or_removed_through_the_orm():
    event = AuditEvent.objects.get(
        pk=audit.record_event(
            audit.STUDY_DETAIL, 200, request=request_with(None), exam_ids=["1"], record_count=1
        )
    )
    event.record_count = 0
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(record_count=0)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["record_count"])


def test_the_database_refuses_to_rewrite_audit_events():
    event_id = audit.record_event(audit.STUDY_DETAIL, 200)
    for statement in (
        "UPDATE audit_event SET record_count = 9 WHERE id = %s",
        "DELETE FROM audit_event WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event_id])
    assert AuditEvent.objects.get(pk=event_id).record_count == 0


def test_an_event_records_who_from_where_and_what():
    user = make_user(role=EXPORTER)
    request = request_with(tokens.issue_token(user).raw, "192.0.2.10")
    request.request_id = "req-123"
    require_role(request, VIEWER)
    event = AuditEvent.objects.get(
        pk=audit.record_event(
            audit.STUDY_SEARCH,
            200,
            request=request,
            parameters={"q": "王"},
            record_count=2,
            exam_ids=["1", "2"],
        )
    )
    assert abs(event.occurred_at - timezone.now()) < dt.timedelta(minutes=1)
    assert (event.username, event.role, event.client_address, event.request_id) == (
        "alice",
        EXPORTER,
        "192.0.2.10",
        "req-123",
    )
    assert (event.action, event.parameters, event.record_count, event.exam_ids) == (
        "study.search",
        {"q": "王"},
        2,
        ["1", "2"],
    )


def test_the_audit_log_command_filters_and_prints_json():
    audit.record_event(audit.STUDY_DETAIL, 200, username="alice", exam_ids=["20250000001"], record_count=1)
    audit.record_event(audit.STUDY_DETAIL, 200, username="bob", exam_ids=["20250000002"], record_count=1)
    out = io.StringIO()
    call_command("audit_log", exam_id="20250000002", as_json=True, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["user"], e["exam_ids"]) for e in lines] == [("bob", ["20250000002"])]
    out = io.StringIO()
    call_command("audit_log", username="alice", since="2000-01-01", stdout=out)
    table = out.getvalue().splitlines()
    assert table[0].startswith("time") and len(table) == 2 and "alice" in table[1]
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit_log", since="yesterday")


def test_the_audit_log_table_names_the_exam_ids_of_each_event():
    page = [f"2025{n:07d}" for n in range(1, 51)]
    audit.record_event(audit.STUDY_SEARCH, 200, username="carol", exam_ids=page, record_count=50)
    audit.record_event(audit.STUDY_DETAIL, 200, username="dave", exam_ids=[page[40]], record_count=1)
    audit.record_event(audit.STUDY_SEARCH, 200, username="erin", exam_ids=[], record_count=0)

    def table(**options) -> list[str]:
        out = io.StringIO()
        call_command("audit_log", stdout=out, **options)
        return out.getvalue().splitlines()

    header, *lines = table()
    assert header.endswith("records  exam ids")
    assert [line.rsplit("  ", 1)[1] for line in lines] == [
        "20250000001,20250000002,20250000003 +47 more",
        "20250000041",
        "-",
    ]
    # Who saw study 41: both events, with that id first on the search's line.
    _, search, detail = table(exam_id=page[40])
    assert "carol" in search and search.endswith("  20250000041,20250000001,20250000002 +47 more")
    assert "dave" in detail and detail.endswith("  20250000041")
    out = io.StringIO()
    call_command("audit_log", exam_id=page[40], as_json=True, stdout=out)
    assert [json.loads(line)["exam_ids"] for line in out.getvalue().splitlines()] == [page, [page[40]]]


def test_no_demo_user_outside_the_local_demo_cluster():
    out = io.StringIO()
    call_command("ensure_demo_user", stdout=out)
    assert "no demo user" in out.getvalue()
    assert not get_user_model().objects.exists()
