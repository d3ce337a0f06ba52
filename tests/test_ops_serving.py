"""Production serving: security headers, HTTPS behind the TLS proxy, the client address it reports, static
files from WhiteNoise, and ``check --deploy`` clean under the production settings of docs/operations.md."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from server.access.audit import client_address

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db

# The production settings that docs/operations.md documents (with a placeholder host and key).
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "Zq3-placeholder-" + "k7Rm2Xw9" * 6,
    "ALLOWED_HOSTS": "radiology.hospital.example,127.0.0.1",
    "BEHIND_TLS_PROXY": "true",
    "DATABASE_URL": "postgresql://app@127.0.0.1:5432/studies",
}


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "DJANGO_", "METRICS_", "LOG_"))
        and k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "BEHIND_TLS_PROXY"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**inherited, **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_the_documented_production_settings():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_complains_without_the_tls_proxy():
    without_proxy = {**PRODUCTION_ENV, "BEHIND_TLS_PROXY": "false"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **without_proxy)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_a_bad_security_variable_stops_start_up_with_one_line():
    result = manage("check", **{**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "a year"})
    assert result.returncode == 78
    assert result.stderr.strip() == (
        "Configuration error: SECURE_HSTS_SECONDS must be a whole number, not 'a year'"
    )


def test_empty_values_as_in_env_example_mean_the_defaults():
    empty = dict.fromkeys(
        ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "LOG_FORMAT"], ""
    )
    empty.update(TRUSTED_PROXY_ADDRESSES="", METRICS_ALLOWED_ADDRESSES="", METRICS_TOKEN="")
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.LOG_FORMAT, s.TRUSTED_PROXY_ADDRESSES, "
        "s.METRICS_ALLOWED_ADDRESSES, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = manage("shell", "--verbosity", "0", "-c", code, **{**PRODUCTION_ENV, **empty})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True 31536000 True json ['127.0.0.1', '::1'] ['127.0.0.1', '::1'] "
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_every_response_carries_the_security_headers(client):
    for path in ("/api/v1/health", "/graphql", "/no/such/page"):
        response = client.get(path)
        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path


TLS_PROXY = {
    "BEHIND_TLS_PROXY": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31_536_000,
}


@override_settings(**TLS_PROXY)
def test_behind_the_tls_proxy_https_gets_hsts_and_plain_http_is_redirected():
    client = Client()
    secure = client.get("/api/v1/health", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = client.get("/api/v1/studies?patient_name=x")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/api/v1/studies?patient_name=x"
    assert "Strict-Transport-Security" not in plain
    # Probes and Prometheus speak plain HTTP to gunicorn on loopback: not redirected.
    assert client.get("/api/v1/health").status_code == 200


@override_settings(**TLS_PROXY)
def test_the_proxys_x_real_ip_becomes_the_client_address_only_from_a_trusted_proxy(rf):
    from server.core.middleware import ProxiedClientAddressMiddleware

    seen = []
    middleware = ProxiedClientAddressMiddleware(lambda request: seen.append(client_address(request)))
    middleware(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="10.1.2.3"))
    middleware(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="2001:db8::7"))
    middleware(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="not-an-address'; --"))
    middleware(rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_REAL_IP="10.1.2.3"))  # a client claiming an address
    assert seen == ["10.1.2.3", "2001:db8::7", "127.0.0.1", "10.9.9.9"]
    with override_settings(BEHIND_TLS_PROXY=False):
        middleware(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="10.1.2.3"))
    assert seen[-1] == "127.0.0.1"


def test_static_files_are_served_with_debug_off_and_nothing_collected(tmp_path):
    """One way to serve static files: the REST docs' assets as the playground's, from the apps' folders."""
    import ninja

    with override_settings(STATIC_ROOT=tmp_path / "empty"):
        response = Client().get("/static/ninja/swagger-ui.css")
        assert response.status_code == 200
        source = Path(ninja.__file__).parent / "static" / "ninja" / "swagger-ui.css"
        assert b"".join(response.streaming_content) == source.read_bytes()
        assert response["Cache-Control"] == "max-age=60, public"  # not versioned: may change on upgrade
        docs = Client().get("/api/v1/docs")
        assert docs.status_code == 200 and b'href="/static/ninja/swagger-ui.css"' in docs.content


def test_collected_static_files_are_served_compressed(tmp_path):
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
        client = Client()  # a new handler: WhiteNoise indexes STATIC_ROOT when it starts
        plain = client.get("/static/ninja/swagger-ui.css")
        assert plain.status_code == 200
        body = b"".join(plain.streaming_content)
        assert body == (tmp_path / "ninja" / "swagger-ui.css").read_bytes() and len(body) > 1000
        assert plain["Content-Type"].startswith("text/css")
        assert plain["X-Content-Type-Options"] == "nosniff"
        assert "max-age" in plain["Cache-Control"]
        compressed = client.get("/static/ninja/swagger-ui.css", HTTP_ACCEPT_ENCODING="gzip")
        assert compressed["Content-Encoding"] == "gzip"
        assert gzip.decompress(b"".join(compressed.streaming_content)) == body
        assert client.get("/static/ninja/no-such-file.css").status_code == 404
