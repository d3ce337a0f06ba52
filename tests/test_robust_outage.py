"""The database goes away and comes back, under the real server.

A throwaway cluster (server.core.local_postgres) holds a migrated database; gunicorn serves it with the
production configuration (gunicorn.conf.py). The test stops the cluster: every API call must answer 503 within
3 seconds, without a stack trace; it starts the cluster again: the same server must answer normally again,
with no restart.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.core.local_postgres import Cluster, find_binaries, free_port

ROOT = Path(__file__).resolve().parent.parent
BINARIES = find_binaries()

ENDPOINTS = [
    ("GET", "/api/v1/studies/search?q=x", 200),
    ("GET", "/api/v1/studies/search", 200),
    ("GET", "/api/v1/studies/no-such-study", 404),
    ("GET", "/api/v1/studies/filters/options", 200),
    ("GET", "/api/v1/studies/export", 200),
    ("GET", "/api/v1/auth/me", 200),
]
GRAPHQL = json.dumps({"query": "{ studies { totalCount } studyFilterOptions { examStatuses } }"}).encode()


def environment(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="server.settings",
        SECRET_KEY="outage-test-" + "k" * 50,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        GUNICORN_WORKERS="2",
        METRICS_ENABLED="false",
    )
    return env


def request(port: int, method: str, path: str, token: str, body: bytes | None = None):
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return response.status, content, time.monotonic() - started


@pytest.fixture(scope="module")
def served():
    assert BINARIES is not None
    cluster = Cluster.throwaway_cluster(BINARIES).init()
    server = None
    try:
        cluster.start()
        url = cluster.create_database("studies")
        env = environment(url)
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [python, "manage.py", "generate_demo_data", "--rows", "200"], cwd=ROOT, env=env, check=True
        )
        script = (
            "from server.access.services import create_user; from server.access.tokens import issue_token; "
            "print(issue_token(create_user('outage-admin', 'admin', 'a long password 12345')).raw)"
        )
        token = (
            subprocess.run(
                [python, "manage.py", "shell", "-c", script],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        port = free_port()
        env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "server.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(port, "GET", "/api/v1/health", token)[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.3)
        yield cluster, port, token, server
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        cluster.destroy()


def test_outage_answers_503_fast_and_the_server_recovers_by_itself(served):
    cluster, port, token, server = served
    for method, path, healthy in ENDPOINTS:
        assert request(port, method, path, token)[0] == healthy, path
    assert request(port, "POST", "/graphql", token, GRAPHQL)[0] == 200

    cluster.stop()
    try:
        for _ in range(2):  # both workers, each with a connection that was open when the server went away
            status, body, elapsed = request(port, "GET", "/api/v1/health", token)
            assert status == 503 and elapsed < 3, (status, body, elapsed)
            assert json.loads(body)["status"] == "error"
            for method, path, _ in ENDPOINTS:
                status, body, elapsed = request(port, method, path, token)
                assert status == 503, (path, status, body[:300])
                assert json.loads(body) == {"detail": "Database unavailable"}, path
                assert elapsed < 3, (path, elapsed)
            status, body, elapsed = request(port, "POST", "/graphql", token, GRAPHQL)
            assert elapsed < 3
            assert status == 503, (status, body[:300])
            messages = {error["message"] for error in json.loads(body)["errors"]}
            assert messages == {"Database unavailable"}, messages
            for leak in (b"Traceback", b"psycopg", b"5432", b"connection"):
                assert leak not in body
        assert server.poll() is None, "gunicorn died during the outage"
    finally:
        cluster.start()

    deadline = time.monotonic() + 15
    while request(port, "GET", "/api/v1/health", token)[0] != 200:
        assert time.monotonic() < deadline, "the server did not recover within 15 s of the database's return"
        time.sleep(0.2)
    for _ in range(4):  # every worker, whatever connection it held
        for method, path, healthy in ENDPOINTS:
            status, body, _ = request(port, method, path, token)
            assert status == healthy, (path, status, body[:300])
        status, body, _ = request(port, "POST", "/graphql", token, GRAPHQL)
        assert status == 200 and "errors" not in json.loads(body), body[:300]
