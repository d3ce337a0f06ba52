"""The fallback of `make test` on a machine with no PostgreSQL server: a throwaway cluster from the system's
binaries, with a UTF-8 character type so that trigram search works on Chinese text."""

from __future__ import annotations

import psycopg
import pytest

from tools.pgcluster import ThrowawayCluster, find_binaries


@pytest.mark.skipif(find_binaries() is None, reason="no PostgreSQL server binaries on this machine")
def test_a_throwaway_cluster_starts_with_a_utf8_ctype_and_is_removed():
    cluster = ThrowawayCluster(find_binaries()).init()
    try:
        cluster.start()
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            assert conn.execute("SHOW lc_ctype").fetchone()[0].lower().replace("-", "") == "c.utf8"
            conn.execute("CREATE EXTENSION pg_trgm")
            assert len(conn.execute("SELECT show_trgm('王小明')").fetchone()[0]) >= 3
    finally:
        cluster.destroy()
    assert not cluster.root.exists()
