"""Run a command with ``DATABASE_URL`` naming a PostgreSQL server; ``make test`` goes through it.

The server, in order: ``DATABASE_URL`` if set; else one that answers on 127.0.0.1:5432; else a throwaway
cluster from the system's binaries, torn down afterwards; else one line saying what to install.
"""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from tools.pgcluster import INSTALL_HINT, ThrowawayCluster, find_binaries

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def main(command: list[str]) -> int:
    if not command:
        sys.stderr.write("usage: python -m tools.with_postgres COMMAND [ARG...]\n")
        return 2
    url = os.environ.get("DATABASE_URL")
    cluster = None
    if not url:
        if answers(LOCAL_SERVER):
            url = LOCAL_SERVER
        else:
            binaries = find_binaries()
            if binaries is None:
                sys.stderr.write(INSTALL_HINT + "\n")
                return 2
            cluster = ThrowawayCluster(binaries).init()
            cluster.start()
            url = cluster.url
            print(f"Started a throwaway PostgreSQL cluster on port {cluster.port}", flush=True)
    try:
        return subprocess.call(command, env={**os.environ, "DATABASE_URL": url})
    finally:
        if cluster is not None:
            cluster.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
