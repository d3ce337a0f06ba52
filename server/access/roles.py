"""The roles, as Django groups; a user holds one, set by ``create_user`` or ``set_role``.

Each role grants the rights of the roles it lists in ``GRANTS``: every role may read (search, detail, filter
options, statistics); ``exporter`` may export, ``reporter`` write reports, ``analyst`` create, cancel and
delete analysis tasks, and ``admin`` everything, including imports, user management and the audit log. The
rights are not a ladder (a reporter may not export, an exporter may not write reports), so a check asks
whether the user's role grants the right, not whether it ranks above another.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

VIEWER = "viewer"  # search, detail, filter options, statistics
EXPORTER = "exporter"  # viewer + export
REPORTER = "reporter"  # viewer + write reports
ANALYST = "analyst"  # viewer + create, cancel and delete analysis tasks
ADMIN = "admin"  # everything: imports, user management, the audit log
ROLES: tuple[str, ...] = (VIEWER, EXPORTER, REPORTER, ANALYST, ADMIN)
GRANTS: dict[str, frozenset[str]] = {
    VIEWER: frozenset({VIEWER}),
    EXPORTER: frozenset({VIEWER, EXPORTER}),
    REPORTER: frozenset({VIEWER, REPORTER}),
    ANALYST: frozenset({VIEWER, ANALYST}),
    ADMIN: frozenset(ROLES),
}


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """The user's role, or None for anonymous, inactive or role-less users. Should a user hold several
    groups (set by hand), the one that grants most counts, the later of ROLES on a tie."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    names = getattr(user, "_role_names", None)
    if names is None:
        names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._role_names = names  # one query per request, not per check
    held = [name for name in ROLES if name in names]
    return max(held, key=lambda name: (len(GRANTS[name]), ROLES.index(name))) if held else None


def has_role(user, needed: str) -> bool:
    """Whether ``user``'s role grants the rights of ``needed``."""
    role = role_of(user)
    return role is not None and needed in GRANTS[role]
