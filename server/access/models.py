"""Access tokens and the append-only audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class AccessToken(models.Model):
    """A bearer token. Only its SHA-256 is stored: a leaked table grants nothing.

    ``password_fingerprint`` ties the token to the password it was issued under, so a password change revokes
    every token issued before it without touching this table.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    password_fingerprint = models.CharField(max_length=64)
    # The role when issued: role changes go through set_role, which revokes the user's tokens, so a live
    # token's role is current, and checking it costs no query per request.
    role = models.CharField(max_length=16, default="")  # tokens from before this column: no role, re-login
    created_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "access_token"
        indexes = [models.Index(fields=["user", "revoked_at"], name="access_token_user_idx")]

    def __str__(self) -> str:
        return f"token {self.pk} of user {self.user_id}"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event through the application."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events cannot be updated")


class AuditEvent(models.Model):
    """One look at patient data, or one refused attempt. Never updated, never deleted by the application.

    A PostgreSQL trigger (migration 0003) refuses UPDATE and DELETE too, so not even raw SQL from the
    application's own database role can rewrite history.
    """

    occurred_at = models.DateTimeField(db_default=Now(), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False
    )
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    parameters = models.JSONField(default=dict)
    record_count = models.PositiveIntegerField(default=0)
    exam_ids = models.JSONField(default=list)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "audit_event"
        ordering = ("occurred_at", "id")
        indexes = [
            models.Index(fields=["action", "username", "occurred_at"], name="audit_action_user_idx"),
            models.Index(fields=["action", "client_address", "occurred_at"], name="audit_action_client_idx"),
            models.Index(fields=["username", "occurred_at"], name="audit_user_idx"),
        ]

    def __str__(self) -> str:
        return f"audit event {self.pk}: {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")
