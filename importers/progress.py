"""Progress of a long import: a redrawn bar with rate and ETA on a terminal, plain lines in a log.

No dependency: the bar is one carriage-returned line, throttled to a few redraws a second; when the output
is not a terminal (cron, CI, a pipe) a line is written every ``interval`` seconds instead, so logs stay short.
"""

from __future__ import annotations

import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    def __init__(self, stream: TextIO, total: int | None, tty: bool | None = None, interval: float = 10.0):
        self.stream = stream
        self.total = total or None
        self.tty = stream.isatty() if tty is None else tty
        self.interval = 0.2 if self.tty else interval
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        if self.total and rate:
            share = min(done / self.total, 1.0)
            eta = max(self.total - done, 0) / rate
            text = f"{share:6.1%} {done:,}/{self.total:,} rows, {rate:,.0f} rows/s, ETA {_duration(eta)}"
        else:
            share, text = 0.0, f"{done:,} rows, {rate:,.0f} rows/s"
        if self.tty:
            filled = int(share * 30)
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {text}\033[K")
        else:
            self.stream.write(f"read {text}\n")
        self.stream.flush()

    def phase(self, text: str) -> None:
        """A step after reading (merging, rebuilding indexes), on its own line."""
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(f"{text} ({_duration(time.monotonic() - self.started)} so far)\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
