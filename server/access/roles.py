"""The three roles, as Django groups, each including the rights of the ones before it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

VIEWER = "viewer"  # search, detail, filter options, statistics
EXPORTER = "exporter"  # viewer + export
ADMIN = "admin"  # everything: imports, user management, the audit log
ROLES: tuple[str, ...] = (VIEWER, EXPORTER, ADMIN)
_RANK = {name: rank for rank, name in enumerate(ROLES)}


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """The user's highest role, or None for anonymous, inactive or role-less users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    names = getattr(user, "_role_names", None)
    if names is None:
        names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._role_names = names  # one query per request, not per check
    ranked = [name for name in ROLES if name in names]
    return ranked[-1] if ranked else None


def has_role(user, needed: str) -> bool:
    """Whether ``user`` holds ``needed`` or a role above it."""
    role = role_of(user)
    return role is not None and _RANK[role] >= _RANK[needed]
