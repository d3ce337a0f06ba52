"""A lean HTTP client for the measurements: persistent connections (http.client), one per thread.

The timer covers sending the request and reading the whole body; checking the answer happens after the timer
stops, so the client's own work inflates the figures as little as possible. Its CPU time is recorded too
(``client_cpu_ms_per_request``), so a reader can see how much of a 2-core machine the client itself took.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.stats import summarize

MIN_SAMPLES = 10


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Validates a 200 body; returns an error message or None. Run outside the timer.
    check: Callable[[bytes], str | None] | None = None


def graphql_request(query: str, variables: dict | None = None) -> Request:
    body = json.dumps({"query": query, "variables": variables or {}}, ensure_ascii=False).encode()
    return Request("POST", "/graphql", body, {"Content-Type": "application/json"}, check=graphql_errors)


def graphql_errors(body: bytes) -> str | None:
    document = json.loads(body)
    if document.get("errors"):
        return "GraphQL errors: " + "; ".join(str(error.get("message")) for error in document["errors"])[:300]
    if not document.get("data"):
        return "GraphQL answered no data"
    return None


def json_check(body: bytes) -> str | None:
    json.loads(body)
    return None


class Client:
    def __init__(self, port: int, token: str | None = None, timeout: float = 600) -> None:
        self.port = port
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def send(self, request: Request) -> tuple[int, bytes]:
        """One request on the kept-alive connection; reconnects once if the server had closed it."""
        headers = {**self.headers, **request.headers}
        for attempt in (1, 2):
            try:
                self.conn.request(request.method, request.path, body=request.body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def problem(request: Request, status: int, body: bytes) -> str | None:
    """What is wrong with an answer, or None if it is a good one."""
    if status != 200:
        return f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}"
    if request.check is not None:
        try:
            return request.check(body)
        except ValueError as error:
            return f"unparseable answer: {error}"
    return None


def over_budget(started: float, budget: float | None, taken: int) -> bool:
    return bool(budget) and taken >= MIN_SAMPLES and time.perf_counter() - started > budget


def latency(client: Client, request: Request, warmup: int, count: int, budget: float | None = None) -> dict:
    """``warmup`` unmeasured requests, then ``count`` measured one after another: percentiles in ms.

    ``budget`` (seconds) bounds a pathologically slow query: the warm-up stops after a quarter of it and the
    measurement once it is spent (with at least 10 samples); the result's ``n`` then says how many were taken.
    """
    errors: list[str] = []
    warm_until = time.perf_counter() + budget / 4 if budget else None
    for _ in range(warmup):
        if warm_until and time.perf_counter() > warm_until:
            break
        status, body = client.send(request)
        if (message := problem(request, status, body)) is not None:
            errors.append(message)
            if status == 404:  # the endpoint is not there at all: no point in measuring it
                return {"n": 0, "errors": len(errors), "error": message, "unavailable": True}
    samples = []
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    for _ in range(count):
        if over_budget(wall_started, budget, len(samples)):
            break
        started = time.perf_counter()
        status, body = client.send(request)
        samples.append((time.perf_counter() - started) * 1000)
        if (message := problem(request, status, body)) is not None:
            errors.append(message)
    wall = time.perf_counter() - wall_started
    cpu = time.process_time() - cpu_started
    result = summarize(samples)
    result.update(
        errors=len(errors),
        client_cpu_ms_per_request=round(cpu * 1000 / max(len(samples), 1), 3),
        seconds=round(wall, 2),
        bytes=len(body) if count else 0,
    )
    if errors:
        result["error"] = errors[0]
    return result


def throughput(port: int, token: str | None, request: Request, clients: int, seconds: float) -> dict:
    """``clients`` threads, each on its own connection, sending ``request`` for ``seconds``."""
    deadline_box: list[float] = []
    # The window opens when every client has connected and sent its warm-up request, not before.
    start = threading.Barrier(clients + 1, action=lambda: deadline_box.append(time.perf_counter() + seconds))
    counts = [0] * clients
    errors = [0] * clients
    first_error: list[str] = []
    samples: list[list[float]] = [[] for _ in range(clients)]

    def run(index: int) -> None:
        client = Client(port, token)
        with contextlib.suppress(OSError):
            client.send(request)  # connect and warm outside the measured window
        start.wait()
        deadline = deadline_box[0]
        while (now := time.perf_counter()) < deadline:
            try:
                status, body = client.send(request)
                message = problem(request, status, body)
            except OSError as error:
                message = f"{type(error).__name__}: {error}"
                client.close()
            samples[index].append((time.perf_counter() - now) * 1000)
            if message is None:
                counts[index] += 1
            else:
                errors[index] += 1
                if not first_error:
                    first_error.append(message)
        client.close()

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    cpu_started = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    total = sum(counts)
    latencies = summarize([sample for chunk in samples for sample in chunk])
    result = {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": total,
        "errors": sum(errors),
        "rps": round(total / elapsed, 1) if elapsed else 0.0,
        "p50_ms": latencies.get("p50_ms"),
        "p95_ms": latencies.get("p95_ms"),
        "client_cpu_percent": round(cpu * 100 / elapsed, 1) if elapsed else 0.0,
    }
    if first_error:
        result["error"] = first_error[0]
    return result
