"""Reads of studies go to a streaming replica (DATABASE_REPLICA_URLS); writes, imports and everything about
users and the audit trail never do. The replica alias points at the test database itself, in a separate
process, since the test process's own aliases are fixed at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import csv, json, sys, tempfile
import django
django.setup()
from django.db import connections
from django.test import Client
from server.access.services import create_user
from server.access.tokens import issue_token
from server.core.data_version import current_version
from django.test.utils import CaptureQueriesContext
from importers.service import import_studies
from server.access.models import AuditEvent
from server.studies.columns import STUDY_FIELDS
from server.studies.demo_data import generate_studies
from server.studies.models import Study

def run(label):
    with CaptureQueriesContext(connections["replica_1"]) as replica, \
            CaptureQueriesContext(connections["replica_2"]) as replica_2, \
            CaptureQueriesContext(connections["default"]) as default:
        yield
    seen[label] = {"replica": len(replica) + len(replica_2), "default": len(default),
                   "replicas used": int(bool(replica)) + int(bool(replica_2)),
                   "replica names": [name for name, c in (("replica_1", replica), ("replica_2", replica_2))
                                     if c]}

import server.studies.selectors.rows as rows_module
copied_from = []
copy_rows = rows_module._copied
def recording_copy(rows, types):  # as the export reads its rows: after the view has returned
    copied_from.append(rows.db)
    yield from copy_rows(rows, types)
rows_module._copied = recording_copy

seen = {}
for _ in run("read studies"):
    list(Study.objects.all()[:5]); Study.objects.filter(exam_source="門診").count()
for _ in run("data version"):
    current_version()
for _ in run("read audit"):
    AuditEvent.objects.count()
for _ in run("write study"):
    row = dict(zip(STUDY_FIELDS, next(iter(generate_studies(1, seed=99)))))
    row["exam_id"] = "replica-test-1"
    Study.objects.create(**row)
    Study.objects.filter(pk="replica-test-1").delete()
with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as handle:
    writer = csv.writer(handle)
    writer.writerow(STUDY_FIELDS)
    for values in generate_studies(20, seed=98):
        writer.writerow(["replica-" + str(values[0]) if i == 0 else ("" if v is None else v)
                         for i, v in enumerate(values)])
for _ in run("import"):
    report = import_studies(handle.name)
token = issue_token(create_user("replica-reader", "viewer", "a long password 123")).raw
for _ in range(8):
    for _ in run("request"):
        answer = Client().get("/api/v1/studies/search", HTTP_AUTHORIZATION="Bearer " + token)
        assert answer.status_code == 200
    seen.setdefault("requests", []).append(seen.pop("request"))
exporter = issue_token(create_user("replica-exporter", "exporter", "a long password 123")).raw
for _ in range(6):
    for _ in run("export"):  # counted against EXPORT_CSV_MAX_ROWS in the view, streamed after it
        answer = Client().get("/api/v1/studies/export", HTTP_AUTHORIZATION="Bearer " + exporter)
        assert answer.status_code == 200 and b"".join(answer.streaming_content)
    seen.setdefault("exports", []).append({**seen.pop("export"), "rows from": copied_from.pop()})
for _ in run("cleanup"):
    Study.objects.filter(exam_id__startswith="replica-").delete()
print(json.dumps({"routes": seen, "inserted": report.inserted}))
"""


@pytest.mark.django_db(transaction=True)
def test_studies_reads_go_to_the_replica_and_writes_and_imports_never():
    settings_dict = connection.settings_dict
    url = f"postgresql://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATABASE_REPLICA_URLS": f"{url},{url}",  # two replicas, both the test database
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "testserver",
        "EXPORT_CSV_MAX_ROWS": "1000000",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    routes = outcome["routes"]
    assert routes["read studies"]["replica"] >= 2 and routes["read studies"]["default"] == 0
    # The data version comes from where the studies do: it replicates with them.
    assert routes["data version"]["replica"] == 1 and routes["data version"]["default"] == 0
    for request in routes["requests"]:
        # The token and the audit event on the primary; the version, the count and the page from a replica,
        # one and the same for the whole request, so that the cached total belongs to that replica's data.
        assert request["default"] == 2 and request["replica"] >= 2 and request["replicas used"] == 1
    for export in routes["exports"]:
        # The rows come from the replica that counted them, though they are read after the view returned.
        assert export["replica names"] == [export["rows from"]]
    assert routes["read audit"]["replica"] == 0 and routes["read audit"]["default"] == 1
    assert routes["write study"]["replica"] == 0 and routes["write study"]["default"] >= 2
    assert routes["import"]["replica"] == 0 and routes["import"]["default"] > 0
    assert outcome["inserted"] == 20


def test_without_replicas_everything_reads_the_primary(settings):
    from server.core.request_scope import _request_scope
    from server.core.routers import ReadReplicaRouter
    from server.studies.models import Study

    router = ReadReplicaRouter()
    assert router.db_for_read(Study) == "default"
    settings.DATABASES = {**settings.DATABASES, "replica_1": settings.DATABASES["default"]}
    assert router.db_for_read(Study) == "replica_1"
    assert router.db_for_write(Study) == "default"
    settings.DATABASES = {**settings.DATABASES, "replica_2": settings.DATABASES["default"]}
    token = _request_scope.set({})  # a request: one replica throughout
    try:
        assert len({router.db_for_read(Study) for _ in range(40)}) == 1
    finally:
        _request_scope.reset(token)
    assert len({router.db_for_read(Study) for _ in range(40)}) == 2  # outside one, reads spread
    assert not router.allow_migrate("replica_1", "studies")
    assert router.allow_migrate("default", "studies")
