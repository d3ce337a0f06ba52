"""The report status lifecycle, in one place: which status a change may lead to, and what kind of change.

``draft`` → ``preliminary`` → ``final``; a change to a ``final`` (or already ``amended``) report is stored as
``amended``; ``cancelled`` ends a report. Every write (the API, the importer) asks ``next_version`` and stores
what it answers, so no path can store a transition this module refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT, PRELIMINARY, FINAL, AMENDED, CANCELLED = "draft", "preliminary", "final", "amended", "cancelled"
STATUSES = (DRAFT, PRELIMINARY, FINAL, AMENDED, CANCELLED)
SIGNED = frozenset({FINAL, AMENDED})  # a signed report changes only by amendment

# The kind of change a version records.
CREATED, EDITED, STATUS, AMENDMENT = "created", "edited", "status", "amended"
CHANGES = (CREATED, EDITED, STATUS, AMENDMENT)

# Where a report in each status may go next (staying in the same status means an edit).
_ALLOWED = {
    DRAFT: frozenset({DRAFT, PRELIMINARY, FINAL, CANCELLED}),
    PRELIMINARY: frozenset({PRELIMINARY, FINAL, CANCELLED}),
    FINAL: frozenset({AMENDED, CANCELLED}),
    AMENDED: frozenset({AMENDED, CANCELLED}),
    CANCELLED: frozenset(),
}


class LifecycleViolation(ValueError):
    """A change the lifecycle forbids; the message says which, and is safe to show (REST: 409)."""


class UnknownStatus(ValueError):
    """A status that is not one of STATUSES (REST: 400)."""


@dataclass(frozen=True)
class Transition:
    status: str  # the status to store
    change: str  # CREATED, EDITED, STATUS or AMENDMENT


def first_version(status: str) -> Transition:
    """A new report's first version; it may start in any status but amended or cancelled."""
    _known(status)
    if status in {AMENDED, CANCELLED}:
        raise LifecycleViolation(f"A new report cannot start as {status}")
    return Transition(status, CREATED)


def next_version(current: str, requested: str, content_changed: bool) -> Transition | None:
    """The version a write makes, or None when it changes nothing (same content, same status).

    A signed report asked to stay ``final`` with new text is amended: the contract's "a change to a final
    report makes a new version with status amended", so a resent correction needs no special status.
    """
    _known(requested)
    if requested == current and not content_changed:
        return None
    if current in SIGNED and requested in SIGNED:
        return Transition(AMENDED, AMENDMENT)
    if requested not in _ALLOWED[current]:
        if current == CANCELLED:
            raise LifecycleViolation("A cancelled report cannot change")
        raise LifecycleViolation(f"A {current} report cannot become {requested}")
    return Transition(requested, EDITED if content_changed else STATUS)


def _known(status: str) -> None:
    if status not in STATUSES:
        raise UnknownStatus(f"Unknown status {status!r}: one of {', '.join(STATUSES)}")
