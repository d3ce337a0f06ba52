"""``StudyOrder``: multi-key sorting, resolved by the query layer's ``order_studies``.

A list of one-key objects (``[{orderDatetime: DESC}, {patientName: ASC}]``) rather than one object with
several keys, because the order of an input object's fields carries no meaning in GraphQL. Nulls always sort
last and exam_id breaks ties in the first key's direction, so the order is total and pages never overlap.
"""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from graphql_schema.inputs import SortDirection
from server.studies import selectors


@strawberry.input(
    one_of=True,
    name="StudyOrder",
    description="One sort key; give a list of them for several. Default: orderDatetime DESC.",
)
class StudyOrder:
    order_datetime: SortDirection | None = UNSET
    check_in_datetime: SortDirection | None = UNSET
    report_certification_datetime: SortDirection | None = UNSET
    patient_name: SortDirection | None = UNSET
    patient_age: SortDirection | None = UNSET
    exam_id: SortDirection | None = UNSET


# Every key of StudyOrder is a sortable field of the query layer, under the same (snake_case) name.
ORDER_FIELDS = tuple(f.python_name for f in StudyOrder.__strawberry_definition__.fields)
assert set(ORDER_FIELDS) <= set(selectors.SORTABLE_FIELDS)


def to_sorts(ordering: list[StudyOrder] | None) -> tuple[selectors.Sort, ...]:
    """The query layer's sort keys for ``ordering``; none given means the default order."""
    sorts = []
    for key in ordering or ():
        for name in ORDER_FIELDS:
            direction = getattr(key, name)
            if direction is not UNSET and direction is not None:
                sorts.append(selectors.Sort(name, descending=direction is SortDirection.DESC))
    return tuple(sorts) or selectors.DEFAULT_SORT
