"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

Connections are kept between requests (``CONN_MAX_AGE``) and checked before each request reuses one
(``CONN_HEALTH_CHECKS``), so that a database restart costs no request a 503. Django checks by sending
``SELECT 1``: a round trip on every request, a tenth of the API's whole overhead budget on a 2-core machine.

A connection the server has closed (a restart, ``pg_terminate_backend``, an idle timeout) has something
to read: the server's goodbye, then the end of the stream. An idle connection in good health has nothing.
So the check asks the socket whether it is readable, without waiting, and sends ``SELECT 1`` only when it
is; a notice that arrived in between then costs one round trip and nothing else.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()  # mid-transaction: not the between-requests case this is for
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone already
            return False
        return not readable or super().is_usable()
