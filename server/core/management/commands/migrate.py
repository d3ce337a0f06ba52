"""Django's ``migrate``, without the API's statement timeout.

A schema change on a full table (an index build, the rewrite that adds a stored column) takes longer than
any search may: under the 5 s ``STATEMENT_TIMEOUT_MS`` it was cancelled half-way at 1,000,000 studies, and
the upgrade stopped. The timeout is lifted on the migrated database's connection for the command only, as
imports do, and restored afterwards.
"""

from __future__ import annotations

from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections

from server.core.db import without_statement_timeout


class Command(DjangoMigrateCommand):
    def handle(self, *args, **options):
        with without_statement_timeout(connections[options["database"]]):
            return super().handle(*args, **options)
