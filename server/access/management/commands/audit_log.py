"""``manage.py audit_log [--user U] [--since YYYY-MM-DD] [--exam-id X] [--json]``."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.access.audit import audit_events
from server.access.models import AuditEvent

COLUMNS = ("time", "user", "role", "client", "request id", "action", "status", "records")


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


class Command(BaseCommand):
    help = "Show the audit trail (admins): a table, or JSON lines with --json."

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
            )
            self.stdout.write("  ".join(str(v) for v in values))
