"""Reads of studies from PostgreSQL streaming replicas (``DATABASE_REPLICA_URLS``), everything else from the
primary.

Only the studies app's models and the data version are read from a replica: they change only through
imports, so a replica a few seconds behind serves the same answers (caches are keyed by the data version,
which replicates with the data and is read from the same replica as the rows: one replica serves the whole
of a request). Tokens, users and the audit trail are read from the primary, where a login or a logout just
wrote them. Writes, imports (which name the primary explicitly) and migrations always go to the primary.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from server.core.request_scope import request_scope

REPLICA_PREFIX = "replica_"
# Read from a replica: the studies and the data version that describes them (core.DataVersion).
_REPLICATED_APPS = frozenset({"studies"})
_REPLICATED_MODELS = frozenset({"core.dataversion"})


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


class ReadReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        replicas = replica_aliases()
        if replicas and (
            model._meta.app_label in _REPLICATED_APPS or model._meta.label_lower in _REPLICATED_MODELS
        ):
            # One replica for the whole of a request: its data version and its rows must agree.
            scope = request_scope()
            if scope is None:
                return random.choice(replicas)  # noqa: S311 (load spreading, not security)
            if scope.get("replica") not in replicas:
                scope["replica"] = random.choice(replicas)  # noqa: S311
            return scope["replica"]
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # every alias holds the same data

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
