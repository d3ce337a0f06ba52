"""The rows of each history (sections split, document and tokens built: ``rows.rows_of``), on child
processes for a large import.

That Python work, about 400 µs a report, was most of a large import's time over its floor, on one core
while PostgreSQL's COPY had little to do. Child processes (one a CPU, up to four) do it in batches, a few
ahead of the parent, which reads the source, checks the histories and sends the COPY; the rows come back in
order. At 100,000 legacy rows on 2 cores the import's load phase went from 87 s to 53 s, the import from
1.85x its floor to 1.37x. A small import keeps the work in process: starting a child costs more than it
saves.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from importers.reports.history import History
from importers.reports.rows import rows_of

BATCH = 500  # histories a child's task: large enough that pickling them is a small part of its work
MAX_CHILDREN = 4  # the parent (reading, checking, COPY) keeps up with about this many

Rows = tuple[tuple, list[tuple], tuple, list[str]]


def derived(
    numbered: Iterable[tuple[History, int]], now: dt.datetime, zone: dt.tzinfo, parallel: bool
) -> Iterator[Rows]:
    """``rows_of(history, first_id, now, zone)`` of each (history, first_id), in order."""
    children = min(MAX_CHILDREN, len(os.sched_getaffinity(0)))
    if not parallel or children < 2:
        for history, first_id in numbered:
            yield rows_of(history, first_id, now, zone)
        return
    # fork: the child needs nothing but this module's functions, already imported; it touches no database.
    pool = ProcessPoolExecutor(max_workers=children, mp_context=multiprocessing.get_context("fork"))
    pending: deque[Future] = deque()
    pending_iter = iter(numbered)
    try:
        while batch := list(islice(pending_iter, BATCH)):
            pending.append(pool.submit(_rows_of_batch, batch, now, zone))
            if len(pending) >= 2 * children:  # every child busy, none waiting for the parent; memory bounded
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _rows_of_batch(batch: list[tuple[History, int]], now: dt.datetime, zone: dt.tzinfo) -> list[Rows]:
    return [rows_of(history, first_id, now, zone) for history, first_id in batch]
