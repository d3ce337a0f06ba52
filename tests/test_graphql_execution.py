"""The executor's short path for column values (graphql_schema.execution) answers exactly as graphql-core's
own path does: the same data, and the same errors where a value is wrong."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import strawberry
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_schema.execution import ColumnFastExecutionContext
from graphql_schema.schema import schema
from server.studies import selectors
from server.studies.models import Study
from tests.conftest import study_values
from tests.graphql_support import post, rows_fixture  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

PAGE = """{ studies(pagination: {limit: 50}) { totalCount results { __typename examId a: patientName
  patientAge patientBirthDate orderDatetime checkInDatetime equipmentType } } }"""


def both_ways(monkeypatch, query: str) -> tuple[dict, dict]:
    """The whole answer with the short path, then with graphql-core's own executor."""
    assert schema.execution_context_class is ColumnFastExecutionContext
    same_id = {"X-Request-ID": "compare-executors"}  # errors quote it
    fast = post(query, headers=same_id)[1]
    monkeypatch.setattr(schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
    full = post(query, headers=same_id)[1]
    return fast, full


@pytest.fixture
def infos(monkeypatch) -> list:
    """Every ResolveInfo graphql-core builds (one per field it resolves the general way)."""
    built: list = []
    build = StrawberryGraphQLCoreExecutionContext.build_resolve_info
    monkeypatch.setattr(
        StrawberryGraphQLCoreExecutionContext,
        "build_resolve_info",
        lambda self, *args: built.append(args) or build(self, *args),
    )
    return built


def test_a_page_is_the_same_either_way(rows, monkeypatch, infos):
    fast, full = both_ways(monkeypatch, PAGE)
    assert "errors" not in fast and len(fast["data"]["studies"]["results"]) == 50
    assert fast == full
    # The full path builds a ResolveInfo for each row's 7 columns and its __typename; the short path for
    # none of them. Both build one for studies, totalCount and results.
    assert len(infos) == 3 + (3 + 50 * (7 + 1))


@pytest.mark.parametrize(
    ("column", "wrong"),
    [
        ("patient_name", None),  # null where the schema promises a value
        ("order_datetime", dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=zoneinfo.ZoneInfo("UTC"))),  # refused
    ],
)
def test_a_wrong_value_is_reported_as_graphql_core_reports_it(monkeypatch, column, wrong):
    study = Study(**study_values("X", **{column: wrong}))
    monkeypatch.setattr(selectors, "get_study", lambda exam_id: study)
    fast, full = both_ways(monkeypatch, 'query { study(examId: "X") { examId patientName orderDatetime } }')
    assert fast["errors"] and fast == full


OPTIONS = (
    "{ studyFilterOptions { examStatuses examSources examItems equipmentTypes examRooms examEquipments } }"
)


def test_lists_of_values_are_the_same_either_way_without_a_resolve_info_per_list(rows, monkeypatch, infos):
    fast, full = both_ways(monkeypatch, OPTIONS)
    assert "errors" not in fast and fast == full
    options = fast["data"]["studyFilterOptions"]
    assert options["examStatuses"] == sorted({row["exam_status"] for row in rows})
    # The short path: one ResolveInfo (studyFilterOptions); the full one adds each of the six lists.
    assert len(infos) == 1 + (1 + 6)


@pytest.mark.parametrize("wrong", [["CT", None], ["CT", object()]])
def test_a_wrong_item_of_a_list_is_reported_as_graphql_core_reports_it(monkeypatch, wrong):
    options = selectors.FilterOptions(
        exam_statuses=["A"],
        exam_sources=[],
        exam_items=[],
        equipment_types=wrong,
        exam_rooms=[],
        exam_equipments=[],
    )
    monkeypatch.setattr(selectors, "filter_options", lambda: options)
    fast, full = both_ways(monkeypatch, "{ studyFilterOptions { examStatuses equipmentTypes } }")
    assert fast["errors"] and fast == full
    assert fast["errors"][0]["path"] == ["studyFilterOptions", "equipmentTypes", 1]


_permission_infos: list = []


class _Refuse(BasePermission):
    message = "refused"

    def has_permission(self, source, info, **kwargs) -> bool:
        _permission_infos.append(info)
        return False


@strawberry.type
class _Thing:
    name: str = "visible"
    secret: str = strawberry.field(default="hidden", permission_classes=[_Refuse])


@strawberry.type
class _ThingQuery:
    @strawberry.field
    def thing(self) -> _Thing:
        return _Thing()


def test_a_field_without_a_resolver_but_with_a_permission_is_not_read_as_an_attribute():
    """Strawberry marks such a field's full resolver as "default" too; the short path must leave it to
    graphql-core, which runs the permission with a real info, once."""
    small = strawberry.Schema(query=_ThingQuery, execution_context_class=ColumnFastExecutionContext)
    _permission_infos.clear()
    result = small.execute_sync("{ thing { name secret } }")
    assert result.data is None and [error.message for error in result.errors] == ["refused"]
    assert len(_permission_infos) == 1 and _permission_infos[0] is not None
    assert small.execute_sync("{ thing { name __typename } }").data == {
        "thing": {"name": "visible", "__typename": "Thing"}
    }
