"""The API as it runs in production: gunicorn, 2 workers, DEBUG off, on a free loopback port."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.database import ROOT, BenchError, server_environment

WORKERS = 2
# gunicorn reads the production configuration (gunicorn.conf.py beside manage.py, when there is one) by itself
# from the working directory; the benchmark only pins the number of workers to the 2. The worker class
# is the production one (gunicorn's default, sync) unless BENCH_WORKER_CLASS says otherwise, e.g. gthread with
# BENCH_THREADS threads, which keeps connections alive.
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "")
THREADS = int(os.environ.get("BENCH_THREADS", "4"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def has_control_socket() -> bool:
    """Whether this gunicorn has the control socket (and so ``--no-control-socket``) of recent versions."""
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process in bytes (from /proc/PID/status)."""
    result = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return result
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            result[key] = int(value.split()[0]) * 1024
    return result


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the peak of what follows can be read."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Server:
    url: str
    log_path: Path
    port: int = 0
    process: subprocess.Popen | None = None
    worker_class: str = WORKER_CLASS
    threads: int = THREADS
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def command(self) -> list[str]:
        command = [sys.executable, "-m", "gunicorn", "server.wsgi:application"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS)]
        # A full CSV export of millions of rows streams for minutes: longer than a worker timeout that suits
        # a sync worker, which sends no heartbeat while it streams.
        command += ["--graceful-timeout", "5", "--timeout", "600"]
        if self.worker_class:
            command += ["--worker-class", self.worker_class]
        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]
        if has_control_socket():
            # One fixed socket path per user by default: concurrent servers (parallel runs) would share it.
            command.append("--no-control-socket")
        return command

    def start(self, timeout: float = 60) -> None:
        self.port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=server_environment(self.url, **self.extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            if len(self.worker_pids()) == WORKERS and self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise BenchError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log_path}")

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/api/v1/health")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """The pids of gunicorn's workers (the children of the arbiter)."""
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown, workers included
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only gunicorn's processes
            self.process.wait()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
