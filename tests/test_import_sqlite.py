"""The zero-setup SQLite database takes the same imports, by the ORM path, with the same results.

The suite's own database is PostgreSQL, so this runs the command as an operator would on a fresh SQLite
demo install: a subprocess with no DATABASE_URL and its own VAR_DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from importers.service import DIFFERS_FROM_STORED, REPEATED_WITH_OTHER_CONTENT
from server.studies.columns import STUDY_FIELDS
from tests.import_fixtures import legacy, studies, write_csv

ROOT = Path(__file__).resolve().parent.parent


SCRIPT = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from importers.service import import_studies
call_command("migrate", verbosity=0)
reports = []
for path, options in json.loads(sys.argv[1]):
    reports.append(import_studies(path, **options).to_dict())
print(json.dumps(reports, default=str))
"""


def run_on_sqlite(var_dir: Path, imports: list) -> list[dict]:
    """Run ``import_studies`` calls in one fresh process whose database is the default SQLite file."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(VAR_DIR=str(var_dir), DEBUG="true", DJANGO_SETTINGS_MODULE="server.settings")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(imports)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sqlite_imports_with_the_same_counts_and_modes(tmp_path):
    rows = studies(24, seed=31)
    first = str(write_csv(tmp_path / "first.csv", STUDY_FIELDS, [legacy(r) for r in rows[:20]]))
    changed = dict(rows[0], exam_status="檢查完成")
    dirty = [legacy(changed), *[legacy(r) for r in rows[1:]], legacy(rows[3])]
    dirty.append([*legacy(rows[5])[:6], "999", *legacy(rows[5])[7:]])  # a repeat with a bad age
    dirty.append([*legacy(rows[6])[:7], "檢查完成", *legacy(rows[6])[8:]])  # a conflicting repeat
    second = str(write_csv(tmp_path / "second.csv", STUDY_FIELDS, dirty))
    reports = run_on_sqlite(
        tmp_path,
        [
            (first, {}),
            (first, {}),
            (second, {}),
            (second, {"mode": "upsert", "skip_invalid": True}),
            (first, {"mode": "replace", "dry_run": True}),
            (first, {"mode": "replace"}),
        ],
    )
    initial, again, strict, upsert, dry, replaced = reports
    assert initial["write_path"] == "ORM (SQLite)"
    assert (initial["inserted"], again["inserted"], again["unchanged"]) == (20, 0, 20)  # idempotent
    assert strict["outcome"] == "rolled_back"
    assert [(p["row"], p["field"]) for p in strict["invalid"]] == [(26, "patient_age")]
    in_file = {"exam_id": rows[6]["exam_id"], "rows": [7, 27], "reason": REPEATED_WITH_OTHER_CONTENT}
    assert strict["conflicts"] == [
        {"exam_id": rows[0]["exam_id"], "rows": [1], "reason": DIFFERS_FROM_STORED},
        in_file,
    ]
    assert (strict["not_written"], strict["unchanged"], strict["duplicates_identical"]) == (4, 18, 1)
    assert strict["skipped"] == 4  # the bad age, and the three rows of the two conflicts
    assert upsert["conflicts"] == [in_file]
    counts = [
        upsert[k] for k in ("outcome", "inserted", "updated", "unchanged", "duplicates_identical", "skipped")
    ]
    assert counts == ["committed", 4, 1, 18, 1, 3]
    assert upsert["rows_read"] == 27
    assert (dry["outcome"], dry["inserted"], dry["deleted"]) == ("dry_run", 20, 24)
    assert (replaced["outcome"], replaced["inserted"], replaced["total_after"]) == ("committed", 20, 20)
