"""Issuing, resolving and revoking bearer tokens (services)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router
from django.utils import timezone

from server.access.models import AccessToken
from server.access.roles import role_of
from server.core.data_version import remember_version
from server.core.models import DataVersion

MAX_TOKEN_LENGTH = 128


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def password_fingerprint(user: AbstractBaseUser) -> str:
    """Changes whenever the password does (the stored hash is salted afresh on every change)."""
    return _digest(user.password or "")


@dataclass(frozen=True)
class IssuedToken:
    raw: str  # shown to the client once, never stored
    token: AccessToken


def issue_token(user: AbstractBaseUser) -> IssuedToken:
    raw = secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=user,
        key_hash=_digest(raw),
        role=role_of(user) or "",
        password_fingerprint=password_fingerprint(user),
        expires_at=timezone.now() + dt.timedelta(hours=settings.ACCESS_TOKEN_TTL_HOURS),
    )
    return IssuedToken(raw, token)


@functools.cache
def _live_token_sql() -> str:
    """The user of a live token (every column, in the model's order), the token's fingerprint and role, in
    one statement.

    The studies' data version rides along (``server.core.data_version.remember_version``): every API
    request authenticates first and most then need the version, which would otherwise cost a round trip of
    its own.
    """
    user = get_user_model()._meta
    columns = ", ".join(f"u.{field.column}" for field in user.concrete_fields)
    return (
        f"SELECT {columns}, t.password_fingerprint, t.role, v.version, v.changed_at "  # noqa: S608
        f"FROM {user.db_table} u JOIN {AccessToken._meta.db_table} t ON t.user_id = u.{user.pk.column} "
        f"LEFT JOIN {DataVersion._meta.db_table} v ON v.id = 1 "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s"
    )


def user_for_token(raw: str | None) -> AbstractBaseUser | None:
    """The active user a live token belongs to; None for a missing, malformed, expired or revoked one.

    Every API request runs this, so it is one plain statement and the user is made from its row as Django
    makes any loaded instance (``from_db``): the ORM's filtered select_related cost about a millisecond of
    Python per request, and a raw() query 0.3 ms, of an overhead budget of 5 ms.
    """
    if not raw or len(raw) > MAX_TOKEN_LENGTH or not raw.isascii():
        return None
    model = get_user_model()
    alias = router.db_for_read(model)
    with connections[alias].cursor() as cursor:
        cursor.execute(_live_token_sql(), [_digest(raw), timezone.now()])
        row = cursor.fetchone()
    if row is None:
        return None
    *values, token_fingerprint, token_role, data_version, data_changed_at = row
    remember_version((data_version or 0, data_changed_at), alias)
    user = model.from_db(alias, [field.attname for field in model._meta.concrete_fields], values)
    if not user.is_active:
        return None
    if not secrets.compare_digest(token_fingerprint, password_fingerprint(user)):
        return None
    user._role_names = {token_role} if token_role else set()  # see AccessToken.role
    return user


def revoke_token(raw: str) -> bool:
    """Revoke one token (logout); True if a live token was revoked."""
    return bool(
        AccessToken.objects.filter(key_hash=_digest(raw), revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def revoke_all_tokens(user: AbstractBaseUser) -> int:
    """Revoke every live token of a user (deactivation, role change)."""
    return AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
