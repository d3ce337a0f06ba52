"""The GraphQL libraries' versions this release is tested with, and a system check naming any other.

The short path (``execution.py``) overrides graphql-core's ``ExecutionContext.execute_fields`` and reads
Strawberry's converted field definitions, neither of them public API; the playground serves a vendored
GraphiQL whose versions must equal those in Strawberry's IDE template (``views.py``). A minor release of
either may change those without notice, so ``pyproject.toml`` bounds them to the tested minors, the lock
file pins them, and this check stops ``manage.py`` (and the test suite) on anything else. An operator who
knowingly runs another version can silence it with ``SILENCED_SYSTEM_CHECKS = ["graphql_schema.E001"]``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from django.core.checks import CheckMessage, Error

# Distribution: the release series ("major.minor") the suite passed with. Raise together with pyproject.toml
# and requirements.lock (docs/development.md, "Dependencies").
TESTED_SERIES = {
    "strawberry-graphql": "0.341",
    "strawberry-graphql-django": "0.93",
    "graphql-core": "3.3",
}


def _series(release: str) -> str:
    return ".".join(release.split(".")[:2])


def untested_versions() -> dict[str, str]:
    """{distribution: installed version} for each library outside its tested series ("" if missing)."""
    found = {}
    for name, series in TESTED_SERIES.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = ""
        if _series(installed) != series:
            found[name] = installed
    return found


def check_graphql_versions(app_configs=None, **kwargs) -> list[CheckMessage]:
    return [
        Error(
            f"{name} {installed or '(not installed)'} is installed; this release is tested with "
            f"{TESTED_SERIES[name]}.x only",
            hint="Install from the lock file (make install), or run the suite on the new version and raise "
            "TESTED_SERIES in graphql_schema/versions.py with pyproject.toml and requirements.lock.",
            id="graphql_schema.E001",
        )
        for name, installed in untested_versions().items()
    ]
