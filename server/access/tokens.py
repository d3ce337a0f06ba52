"""Issuing, resolving and revoking bearer tokens (services)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from server.access.models import AccessToken
from server.access.roles import role_of

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


def user_for_token(raw: str | None) -> AbstractBaseUser | None:
    """The active user a live token belongs to; None for a missing, malformed, expired or revoked one."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH or not raw.isascii():
        return None
    token = (
        AccessToken.objects.select_related("user")
        .filter(key_hash=_digest(raw), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if not secrets.compare_digest(token.password_fingerprint, password_fingerprint(token.user)):
        return None
    token.user._role_names = {token.role} if token.role else set()  # see AccessToken.role
    return token.user


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
