"""The Prometheus endpoint: off by default, not public, counts by route and status, database errors and
import runs, and sums gunicorn's worker processes (a real gunicorn with two workers, reloaded by HUP)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import DatabaseError, connection
from django.test import Client, override_settings
from prometheus_client import REGISTRY

from server.core import metrics
from server.core.local_postgres import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db

ON = {"METRICS_ENABLED": True, "METRICS_TOKEN": "", "METRICS_ALLOWED_ADDRESSES": ["127.0.0.1", "::1"]}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_off_by_default(client, settings):
    assert settings.METRICS_ENABLED is False
    assert client.get("/metrics").status_code == 404


@override_settings(**ON)
def test_metrics_answer_loopback_or_the_bearer_token_and_nobody_else():
    client = Client()
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.8").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.8", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    with override_settings(METRICS_TOKEN="s3cret-scrape-token"):
        wrong = client.get("/metrics", REMOTE_ADDR="10.0.0.8", HTTP_AUTHORIZATION="Bearer wrong")
        assert wrong.status_code == 404
        token = "Bearer s3cret-scrape-token"
        right = client.get("/metrics", REMOTE_ADDR="10.0.0.8", HTTP_AUTHORIZATION=token)
        assert right.status_code == 200
    with override_settings(METRICS_ALLOWED_ADDRESSES=["10.0.0.0/24"]):
        assert client.get("/metrics", REMOTE_ADDR="10.0.0.8").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@override_settings(**ON)
def test_requests_are_counted_and_timed_by_route_and_status():
    client = Client()
    health = {"route": "/api/v1/health", "method": "GET", "status": "200"}
    status = str(client.get("/api/v1/studies/NOPE-0").status_code)  # 404, or 401 without a token
    missing = {"route": "/api/v1/studies/<exam_id>", "method": "GET", "status": status}
    before = (sample("http_requests_total", **health), sample("http_requests_total", **missing))
    before_timed = sample("http_request_duration_seconds_count", **health)
    client.get("/api/v1/health")
    client.get("/api/v1/health?patient_name=x")
    for number in (1, 2, 3):
        assert str(client.get(f"/api/v1/studies/NOPE-{number}").status_code) == status
    assert sample("http_requests_total", **health) == before[0] + 2
    assert sample("http_requests_total", **missing) == before[1] + 3
    assert sample("http_request_duration_seconds_count", **health) == before_timed + 2
    # Unmatched paths share one label: a scanner cannot blow up the number of series.
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    before_unmatched = sample("http_requests_total", **unmatched)
    client.get("/wp-login.php")
    client.get("/.env")
    assert sample("http_requests_total", **unmatched) == before_unmatched + 2
    body = client.get("/metrics").content.decode()
    assert 'http_requests_total{method="GET",route="/api/v1/health",status="200"}' in body
    assert "NOPE" not in body and "patient_name" not in body and "wp-login" not in body


@override_settings(**ON)
def test_failed_queries_are_counted_as_database_errors():
    before = sample("database_errors_total", error="ProgrammingError")
    with connection.execute_wrapper(metrics._count_failed_query), pytest.raises(DatabaseError):  # noqa: SIM117
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_for_metrics")
    assert sample("database_errors_total", error="ProgrammingError") == before + 1
    error = DatabaseError("connection refused")
    metrics.record_database_error(error)
    metrics.record_database_error(error)  # once per error, however often reported
    assert sample("database_errors_total", error="DatabaseError") >= 1


def test_import_runs_are_counted_for_the_importer():
    before = sample("import_runs_total", source="excel", outcome="succeeded")
    rows_before = sample("import_rows_total", source="excel")
    metrics.record_import_run("excel", "succeeded", rows=120)
    metrics.record_import_run("excel", "failed")
    assert sample("import_runs_total", source="excel", outcome="succeeded") == before + 1
    assert sample("import_runs_total", source="excel", outcome="failed") >= 1
    assert sample("import_rows_total", source="excel") == rows_before + 120


# --- A real gunicorn with two workers --------------------------------------------------------------------


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def counter(body: str, route: str) -> float:
    pattern = rf'^http_requests_total\{{method="GET",route="{re.escape(route)}",status="200"\}} (\S+)$'
    found = re.search(pattern, body, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.fixture
def gunicorn(tmp_path, django_db_setup, django_db_blocker):
    db = connection.settings_dict
    port = free_port()
    dropped = ("DJANGO_", "PROMETHEUS_", "METRICS_", "GUNICORN_")
    variables = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    variables.update(
        DATABASE_URL=f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        + db["NAME"],
        SECRET_KEY="test-only-" + "g" * 50,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        METRICS_ENABLED="true",
        METRICS_DIR=str(tmp_path / "metrics"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        LOG_FORMAT="json",
    )
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_999999.db").write_bytes(b"stale")  # emptied at start
    log = (tmp_path / "gunicorn.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn"], cwd=ROOT, env=variables, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(base + "/api/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.2)
        yield process, base, tmp_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def worker_pids(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


@pytest.mark.slow
def test_gunicorn_workers_are_summed_and_survive_a_graceful_reload(gunicorn):
    process, base, folder = gunicorn
    assert not (folder / "metrics" / "counter_999999.db").exists()
    first_workers = worker_pids(process.pid)
    assert len(first_workers) == 2
    initially = counter(get(base + "/metrics")[1], "/api/v1/health")  # the readiness probes
    # Rounds of 40 until both workers have answered: on a busy machine one worker may take a whole round.
    answers: list[int] = []
    deadline = time.monotonic() + 60
    while True:
        with ThreadPoolExecutor(8) as pool:
            answers += pool.map(lambda _: get(base + "/api/v1/health?patient_name=SECRETNAME")[0], range(40))
        served_by = {path.name for path in (folder / "metrics").glob("counter_*.db")}
        if len(served_by) == 2 or time.monotonic() > deadline:
            break
    assert set(answers) == {200}
    assert len(served_by) == 2, served_by  # both workers answered, each counting in its own file
    status, body = get(base + "/metrics")
    assert status == 200
    before_reload = counter(body, "/api/v1/health")
    assert before_reload == initially + len(answers)  # whichever worker served each

    process.send_signal(signal.SIGHUP)  # graceful reload: new workers, no restart of the master
    deadline = time.monotonic() + 60
    while worker_pids(process.pid) & first_workers or len(worker_pids(process.pid)) != 2:
        assert time.monotonic() < deadline, "the workers were not replaced after HUP"
        time.sleep(0.2)
    status, body = get(base + "/metrics")
    assert counter(body, "/api/v1/health") == before_reload  # the old workers' counts are kept

    output = (folder / "gunicorn.log").read_text()
    assert "SECRETNAME" not in output and "patient_name" not in output
    request_lines = [line for line in output.splitlines() if '"logger": "server.request"' in line]
    assert len(request_lines) >= 42 and all(json.loads(line)["request_id"] for line in request_lines)
    assert "Handling signal: hup" in output


@pytest.mark.django_db
def test_an_import_run_is_counted_by_the_importer(tmp_path):
    import csv

    from importers.service import import_studies
    from server.studies.columns import STUDY_FIELDS
    from server.studies.demo_data import generate_studies

    path = tmp_path / "studies.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(STUDY_FIELDS)
        for row in generate_studies(7, seed=3):
            writer.writerow(["" if value is None else value for value in row])
    before = sample("import_runs_total", source="csv", outcome="committed")
    rows_before = sample("import_rows_total", source="csv")
    assert import_studies(path).outcome == "committed"
    assert sample("import_runs_total", source="csv", outcome="committed") == before + 1
    assert sample("import_rows_total", source="csv") == rows_before + 7
