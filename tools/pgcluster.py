"""A throwaway PostgreSQL cluster from the system's own binaries, for tests on a machine with no server.

Used by ``make test`` when neither ``DATABASE_URL`` nor a server on 127.0.0.1:5432 is available, and by tests
that must stop and start a database of their own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

INSTALL_HINT = (
    "make test needs PostgreSQL: set DATABASE_URL, start a server on 127.0.0.1:5432, or install the server "
    "binaries (Debian/Ubuntu: apt-get install postgresql)"
)


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's versioned folders (newest first)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    for folder in sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    ):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayCluster:
    """``initdb`` into a temporary folder, ``pg_ctl start`` on a free port, and remove it all on ``stop``."""

    def __init__(self, binaries: Path, port: int | None = None) -> None:
        self.binaries = binaries
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="studies-pg-"))
        self.data = self.root / "data"
        # initdb refuses to run as root: run the server as the system's postgres user then.
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.run_as:
            pwd.getpwnam("postgres")  # KeyError: no such user to run the server as
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> ThrowawayCluster:
        # A UTF-8 character type: with a C ctype, pg_trgm extracts no trigrams from Chinese text.
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
