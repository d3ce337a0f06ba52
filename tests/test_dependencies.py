"""The installed GraphQL libraries are the tested ones, and pyproject.toml and the lock file say so too:
the short path (graphql_schema/execution.py) and the vendored GraphiQL depend on those releases' internals."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from packaging.requirements import Requirement

from graphql_schema import versions

ROOT = Path(__file__).resolve().parent.parent


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    return {requirement.name: requirement for requirement in requirements}


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, release = line.split(";")[0].strip().partition("==")
            pins[name.lower()] = release
    return pins


def test_the_installed_graphql_libraries_are_the_tested_ones():
    assert versions.untested_versions() == {}, "install from requirements.lock (make install)"


@pytest.mark.parametrize("name", sorted(versions.TESTED_SERIES))
def test_pyproject_and_the_lock_keep_each_library_in_its_tested_series(name):
    series = versions.TESTED_SERIES[name]
    major, minor = (int(part) for part in series.split("."))
    specifier = declared()[name].specifier
    assert version(name) in specifier
    assert not specifier.contains(f"{major}.{minor + 1}.0") and not specifier.contains(f"{major + 1}.0.0")
    if minor:
        assert not specifier.contains(f"{major}.{minor - 1}.999")
    assert locked()[name] == version(name)


def test_the_lock_pins_every_installed_dependency_of_the_project():
    pins = locked()
    for name in declared():
        assert name.lower() in pins, f"{name} is declared but not in requirements.lock (make lock)"
        assert version(name) == pins[name.lower()], (
            f"{name}: installed {version(name)}, locked {pins[name.lower()]}"
        )


def test_manage_py_stops_on_a_library_outside_its_tested_series(monkeypatch):
    call_command("check")  # the installed set passes
    monkeypatch.setitem(versions.TESTED_SERIES, "graphql-core", "3.2")
    errors = versions.check_graphql_versions()
    assert [error.id for error in errors] == ["graphql_schema.E001"]
    assert (
        errors[0].msg
        == f"graphql-core {version('graphql-core')} is installed; this release is tested with 3.2.x only"
    )
    with pytest.raises(SystemCheckError, match=re.escape("graphql_schema.E001")):
        call_command("check")
