"""``manage.py audit_log [--user U] [--since YYYY-MM-DD] [--exam-id X] [--json]``."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.access.audit import audit_events
from server.access.models import AuditEvent

COLUMNS = ("time", "user", "role", "client", "request id", "action", "status", "records", "exam ids")
# A search event names up to a page of exam ids: the table shows this many, and "+N more" for the rest
# (--json has them all).
SHOWN_EXAM_IDS = 3


def _row(event: AuditEvent) -> dict:
    return {
        "time": event.occurred_at.replace(tzinfo=None).isoformat(timespec="seconds"),
        "user": event.username,
        "role": event.role,
        "client": event.client_address,
        "request_id": event.request_id,
        "action": event.action,
        "status": event.status_code,
        "records": event.record_count,
        "parameters": event.parameters,
        "exam_ids": event.exam_ids,
    }


def exam_ids_cell(exam_ids: list[str], asked: str | None) -> str:
    """The event's exam ids for a terminal: the one asked about first (an auditor's "who saw this study"
    must see it on the line even when a search returned a hundred), then the first others, then a count."""
    if not exam_ids:
        return "-"
    first = [asked] if asked in exam_ids else []
    shown = first + [exam_id for exam_id in exam_ids if exam_id != asked][: SHOWN_EXAM_IDS - len(first)]
    rest = len(exam_ids) - len(shown)
    return ",".join(shown) + (f" +{rest:,} more" if rest else "")


class Command(BaseCommand):
    help = (
        "Show the audit trail (admins): a table naming the first exam ids of each event (the one asked for "
        "with --exam-id first), or JSON lines with all of them with --json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", dest="username")
        parser.add_argument("--since", help="YYYY-MM-DD")
        parser.add_argument("--exam-id", dest="exam_id")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, username, since, exam_id, as_json, **options):
        try:
            since_date = dt.date.fromisoformat(since) if since else None
        except ValueError:
            raise CommandError("--since must be a date, YYYY-MM-DD") from None
        events = audit_events(username=username, since=since_date, exam_id=exam_id)
        if as_json:
            for event in events:
                self.stdout.write(json.dumps(_row(event), ensure_ascii=False))
            return
        self.stdout.write("  ".join(f"{c:<19}" if c == "time" else c for c in COLUMNS))
        for event in events:
            r = _row(event)
            values = (
                r["time"],
                r["user"] or "-",
                r["role"] or "-",
                r["client"] or "-",
                r["request_id"] or "-",
                r["action"],
                r["status"],
                r["records"],
                exam_ids_cell(r["exam_ids"], exam_id),
            )
            self.stdout.write("  ".join(str(v) for v in values))
