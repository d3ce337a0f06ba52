"""User management (services) behind the management commands."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from server.access.roles import ROLES
from server.access.tokens import revoke_all_tokens


class UserError(ValueError):
    """A user-management request that cannot be carried out; the message says why."""


def _check_role(role: str) -> None:
    """Roles are groups made by a data migration; they are re-created on demand should they be missing
    (a database restored without them, a test that flushed the tables)."""
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}")


@transaction.atomic
def create_user(username: str, role: str, password: str, email: str | None = None) -> AbstractBaseUser:
    """Create an active user with one role; the password must pass Django's validators."""
    _check_role(role)
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise UserError(f"User {username!r} already exists")
    user = user_model(username=username, email=email or "")
    validate_password(password, user)  # raises django.core.exceptions.ValidationError
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    return user


@transaction.atomic
def set_role(username: str, role: str) -> AbstractBaseUser:
    """Replace the user's role. Existing tokens are revoked so the new rights apply from the next login."""
    _check_role(role)
    user = _get(username)
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    revoke_all_tokens(user)
    return user


@transaction.atomic
def deactivate_user(username: str) -> AbstractBaseUser:
    """Deactivate the user and revoke every token at once."""
    user = _get(username)
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoke_all_tokens(user)
    return user


def _get(username: str) -> AbstractBaseUser:
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise UserError(f"No user {username!r}") from None
