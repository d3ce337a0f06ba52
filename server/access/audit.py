"""Writing and reading the audit trail (services and selectors)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring
from typing import Any

import psycopg
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, connections, router
from django.http import HttpRequest
from psycopg.types.json import Jsonb

from server.access.models import AuditEvent
from server.access.roles import role_of
from server.core.db import without_statement_timeout

# Actions, one name each, as they appear in the trail.
STUDY_SEARCH = "study.search"
STUDY_DETAIL = "study.detail"
STUDY_EXPORT = "study.export"
STUDY_OPTIONS = "study.filter_options"
STUDY_STATISTICS = "study.statistics"
REPORT_WRITE = "report.write"  # who wrote which report and version (never the text)
REPORT_DETAIL = "report.detail"
REPORT_VERSIONS = "report.versions"
REPORT_LIST = "report.list"  # a study's reports
REPORT_SEARCH = "report.search"  # with the ids of the reports on the page
GRAPHQL_QUERY = "graphql.query"
LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGIN_THROTTLED = "auth.login_throttled"
LOGOUT = "auth.logout"
REFUSED = "auth.refused"  # 401 or 403 on a data request


def client_address(request: HttpRequest | None) -> str | None:
    """The peer address. Behind a reverse proxy, configure it to set REMOTE_ADDR (see deploy/)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _storable(value: Any) -> Any:
    """jsonb refuses NUL characters, which a hostile client may send: make them visible instead."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def record_event(
    action: str,
    status_code: int,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | None = None,
    parameters: dict | None = None,
    record_count: int = 0,
    exam_ids: Iterable[str] | ExamIdTrail = (),
    username: str | None = None,
) -> int:
    """Append one event and return its id. ``user`` defaults to the request's authenticated user.

    Every read of patient data writes one, before the answer leaves, so it is one plain INSERT: through
    the ORM (a model instance, its save machinery, the SQL built anew) it cost 0.6 ms more per request, an
    eighth of the API's overhead budget. The columns are the model's; the time is the database's.
    """
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        user = candidate if candidate is not None and candidate.is_authenticated else None
    database = connections[router.db_for_write(AuditEvent)]
    if isinstance(exam_ids, ExamIdTrail):
        stored_ids: Any = exam_ids.as_jsonb()
    else:
        stored_ids = json.dumps([str(exam_id) for exam_id in exam_ids], ensure_ascii=False)
    values = [
        user.pk if user is not None else None,
        _storable(username if username is not None else (user.get_username() if user else "")),
        role_of(user) or "",
        client_address(request),
        getattr(request, "request_id", "") if request is not None else "",
        action,
        status_code,
        json.dumps(_storable(parameters or {}), ensure_ascii=False),
        record_count,
        stored_ids,
    ]
    with database.cursor() as cursor:
        if isinstance(stored_ids, Jsonb):
            # An export's trail (15 MB a million rows) goes as a parameter beside the statement: spelled
            # into its text, as Django's client-side binding does, it was copied five times on the way.
            with database.wrap_database_errors, psycopg.Cursor(cursor.connection) as bound:
                bound.execute(_INSERT_SQL, values)
                return bound.fetchone()[0]
        cursor.execute(_INSERT_SQL, values)
        return cursor.fetchone()[0]


_INSERTED_COLUMNS = (
    "user_id",
    "username",
    "role",
    "client_address",
    "request_id",
    "action",
    "status_code",
    "parameters",
    "record_count",
    "exam_ids",
)


# The time as the model's db_default (Now()) writes it; the JSON as text the database parses.
_PLACEHOLDERS = ", ".join("%s::jsonb" if c in ("parameters", "exam_ids") else "%s" for c in _INSERTED_COLUMNS)
_INSERT_SQL = (
    f"INSERT INTO {AuditEvent._meta.db_table} (occurred_at, {', '.join(_INSERTED_COLUMNS)}) "  # noqa: S608
    f"VALUES (STATEMENT_TIMESTAMP(), {_PLACEHOLDERS}) RETURNING id"
)


class ExamIdTrail:
    """The exam_ids an export sends, kept as compact UTF-8 JSON rather than a list of objects: a million-row
    export then holds about 15 MB for its audit event instead of about 70 MB (a list) or 60 MB (a StringIO,
    which stores four bytes a character)."""

    def __init__(self) -> None:
        self._json = bytearray(b"[")
        self.count = 0

    def add(self, exam_id: str) -> None:
        if self.count:
            self._json += b","
        self._json += encode_basestring(exam_id).encode()  # json.dumps(exam_id, ensure_ascii=False), in C
        self.count += 1

    def as_jsonb(self) -> Jsonb:
        """The trail as a psycopg parameter that sends the bytes kept here as they are; it ends the trail."""
        self._json += b"]"
        self.add = self._ended  # type: ignore[method-assign]
        return Jsonb(self._json, dumps=_as_they_are)

    def _ended(self, exam_id: str) -> None:
        raise RuntimeError("the trail was already written")


def _as_they_are(data: bytearray) -> bytearray:
    return data


def audited_rows(
    rows: Iterable[tuple], request: HttpRequest, action: str, parameters: dict
) -> Iterator[tuple]:
    """Pass export rows through, then append the audit event with every exam_id sent, when the download
    ends (completely, or cut short by the client: what left the server is what is recorded)."""
    trail = ExamIdTrail()
    try:
        for row in rows:
            trail.add(row[0])
            yield row
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # end the rows' own transaction first, so that the event is not written (and lost) in it
        # Ten million exam_ids make a 150 MB event whose INSERT outlasts the API's statement timeout; cut,
        # it would lose the event and break the download's last chunk (found by the 10M benchmark).
        with without_statement_timeout(connection):
            record_event(
                action, 200, request, parameters=parameters, record_count=trail.count, exam_ids=trail
            )


def audit_events(
    username: str | None = None, since: dt.date | None = None, exam_id: str | None = None
) -> Iterable[AuditEvent]:
    """Events for the admins' audit log, oldest first, streamed."""
    events = AuditEvent.objects.all()
    if username:
        events = events.filter(username=username)
    if since:
        events = events.filter(occurred_at__gte=dt.datetime.combine(since, dt.time.min))
    if exam_id:
        events = events.filter(exam_ids__contains=[exam_id])  # jsonb @>, GIN-indexed (migration 0003)
    return events.order_by("occurred_at", "id").iterator(chunk_size=1000)
