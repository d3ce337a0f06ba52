"""Migration operations that only mean something on PostgreSQL.

SQLite is the zero-setup default and has no trigram indexes; the same migrations must apply on both.
"""

from __future__ import annotations

from django.db import migrations


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """``RunSQL`` that is a no-op on any other database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
