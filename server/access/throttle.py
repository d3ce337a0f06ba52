"""Login throttling, counted from the audit trail itself, so every worker process sees the same failures."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from server.access import audit
from server.access.models import AuditEvent


def login_refused(username: str, client: str | None) -> bool:
    """Whether recent failures for this username or this client address exceed the limits.

    The answer does not depend on whether the username exists, so it reveals nothing about accounts.
    """
    since = timezone.now() - dt.timedelta(minutes=settings.LOGIN_THROTTLE_WINDOW_MINUTES)
    failures = AuditEvent.objects.filter(action=audit.LOGIN_FAILED, occurred_at__gte=since)
    if failures.filter(username=username).count() >= settings.LOGIN_THROTTLE_MAX_PER_USERNAME:
        return True
    return bool(
        client and failures.filter(client_address=client).count() >= settings.LOGIN_THROTTLE_MAX_PER_CLIENT
    )
