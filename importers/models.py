"""Provenance: one row per import run, so that an operator can tell later where every study came from.

A run is recorded when it starts, in its own autocommitted write, and completed when it ends: with the data
in the same transaction when it commits, separately when it rolls back. A run left ``running`` with no end
time was killed half-way (its data transaction was rolled back by the database). Studies written by a run
carry an ``imported_at`` between its ``started_at`` and ``finished_at``; imports lock the table against each
other, so those windows do not overlap.
"""

from __future__ import annotations

from django.db import models


class ImportRun(models.Model):
    class Outcome(models.TextChoices):
        RUNNING = "running"
        COMMITTED = "committed"
        ROLLED_BACK = "rolled_back"
        DRY_RUN = "dry_run"

    file_name = models.CharField(max_length=255)
    file_path = models.TextField(blank=True)
    file_size = models.BigIntegerField(null=True)
    sha256 = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=16, blank=True)
    mode = models.CharField(max_length=16)
    dry_run = models.BooleanField(default=False)
    skip_invalid = models.BooleanField(default=False)
    user = models.CharField(max_length=150, blank=True, help_text="who ran it (OS user or account name)")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    rows_read = models.BigIntegerField(default=0)
    rows_valid = models.BigIntegerField(default=0)
    inserted = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    unchanged = models.BigIntegerField(default=0)
    deleted = models.BigIntegerField(default=0)
    # Valid rows a refused or failed import would have written: rows_read is the sum of the counts either way.
    not_written = models.BigIntegerField(default=0)
    duplicates_identical = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    invalid_rows = models.BigIntegerField(default=0)
    conflicts = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "importers_import_run"
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"import {self.id} of {self.file_name} ({self.outcome})"
