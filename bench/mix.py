"""The benchmark's fixed query mix (docs/performance.md): REST requests and GraphQL documents, same studies.

The searched values are drawn from the data itself (deterministically for a seed), so every search finds rows:
the study in the middle of the table gives the name, its fragments, chart number and exam_id; the month and
the year are that study's.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from bench.client import Request, graphql_request, json_check

STUDY_FIELDS_GQL = (
    "examId medicalRecordNo applicationOrderNo patientName patientGender patientBirthDate patientAge "
    "examStatus examSource examItem examDescription examRoom examEquipment equipmentType orderDatetime "
    "checkInDatetime reportCertificationDatetime certifiedPhysician"
)
PAGE_SIZE = 20
PAGE_500_OFFSET = (500 - 1) * PAGE_SIZE

STUDIES_QUERY = (
    "query Studies($filters: StudyFilter, $pagination: OffsetPaginationInput) {"
    " studies(filters: $filters, pagination: $pagination) { totalCount results { "
    + STUDY_FIELDS_GQL
    + " } } }"
)
STUDY_QUERY = "query Study($examId: String!) { study(examId: $examId) { " + STUDY_FIELDS_GQL + " } }"
OPTIONS_QUERY = (
    "query Options { studyFilterOptions { examStatuses examSources examItems equipmentTypes examRooms "
    "examEquipments } }"
)
_DURATION = "count meanMinutes medianMinutes p90Minutes"
STATISTICS_QUERY = (
    "query Statistics($filters: StudyFilter) { studyStatistics(filters: $filters) {"
    " total byStatus { value count } bySource { value count } byEquipmentType { value count }"
    " byExamRoom { value count } byExamItem(limit: 20) { value count }"
    " timeline(granularity: MONTH) { period count }"
    f" turnaround {{ orderToCheckIn {{ {_DURATION} }} checkInToReport {{ {_DURATION} }}"
    f" orderToReport {{ {_DURATION} }} }} }} }}"
)


@dataclass(frozen=True)
class Samples:
    """Values from the data that the mix searches for."""

    exam_id: str
    chart_no: str
    name3: str
    fragment2: str
    surname1: str
    latin_term: str
    exam_source: str
    exam_status: str
    month_start: dt.date
    month_end: dt.date
    year: int


def draw_samples(cursor) -> Samples:
    """Pick the searched values from the studies table (a DB-API cursor on the benchmark database)."""
    cursor.execute("SELECT count(*) FROM medical_examinations_fact")
    total = cursor.fetchone()[0]
    if not total:
        raise ValueError("The studies table is empty")
    cursor.execute(
        "SELECT exam_id, medical_record_no, patient_name, order_datetime FROM medical_examinations_fact "
        "WHERE char_length(patient_name) = 3 AND patient_name !~ '[A-Za-z]' "
        "AND medical_record_no IS NOT NULL "
        "AND exam_id >= (SELECT exam_id FROM medical_examinations_fact ORDER BY exam_id OFFSET %s LIMIT 1) "
        "ORDER BY exam_id LIMIT 1",
        [total // 2],
    )
    row = cursor.fetchone()
    if row is None:  # a tiny table: any study will do
        cursor.execute(
            "SELECT exam_id, medical_record_no, patient_name, order_datetime FROM medical_examinations_fact "
            "WHERE char_length(patient_name) = 3 ORDER BY exam_id LIMIT 1"
        )
        row = cursor.fetchone()
    exam_id, chart_no, name, ordered = row
    # The source with the fewest studies among those holding at least 5 % of them: a selective filter.
    cursor.execute(
        "SELECT exam_source, count(*) FROM medical_examinations_fact GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    sources = cursor.fetchall()
    source = min((s for s in sources if s[1] >= total * 0.05), key=lambda s: s[1], default=sources[0])[0]
    cursor.execute(
        "SELECT exam_status FROM medical_examinations_fact GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    status = cursor.fetchone()[0]
    month_start = ordered.date().replace(day=1)
    month_end = month_start.replace(day=calendar.monthrange(month_start.year, month_start.month)[1])
    return Samples(
        exam_id=exam_id,
        chart_no=chart_no or exam_id,
        name3=name,
        fragment2=name[1:3],
        surname1=name[0],
        latin_term="CT",
        exam_source=source,
        exam_status=status,
        month_start=month_start,
        month_end=month_end,
        year=ordered.year,
    )


@dataclass(frozen=True)
class MixQuery:
    key: str
    label: str
    rest: Request | None
    graphql: Request | None
    # A 20-row page of studies with its exact total: the API overhead target applies.
    page: bool = True
    # "p50" (landing, filter options) or "p95" target, in ms.
    target_stat: str = "p95_ms"
    target_ms: float = 100.0


def _rest(path: str, params: dict | None = None) -> Request:
    query = ("?" + urlencode(params, doseq=True)) if params else ""
    return Request("GET", "/api/v1" + path + query, check=json_check)


def _search(params: dict, filters: dict | None, offset: int = 0) -> tuple[Request, Request]:
    rest = _rest("/studies/search", {**params, "page_size": PAGE_SIZE} if params else None)
    variables: dict = {"pagination": {"offset": offset, "limit": PAGE_SIZE}}
    if filters:
        variables["filters"] = filters
    return rest, graphql_request(STUDIES_QUERY, variables)


def _at(day: dt.date, end: bool = False) -> str:
    return f"{day.isoformat()}T{'23:59:59' if end else '00:00:00'}"


def build_mix(s: Samples) -> list[MixQuery]:
    def search(key: str, label: str, params: dict, filters: dict | None, **kw) -> MixQuery:
        rest, graphql = _search(params, filters, kw.pop("offset", 0))
        return MixQuery(key, label, rest, graphql, **kw)

    def text(key: str, label: str, term: str) -> MixQuery:
        return search(key, label, {"q": term}, {"search": term})

    month = {"start_date": s.month_start.isoformat(), "end_date": s.month_end.isoformat()}
    year_range = {"start": f"{s.year}-01-01T00:00:00", "end": f"{s.year}-12-31T23:59:59"}
    return [
        search("landing", "no filter (landing page)", {}, None, target_stat="p50_ms", target_ms=10.0),
        search(
            "source",
            "exam_source filter",
            {"exam_source": s.exam_source},
            {"examSource": {"exact": s.exam_source}},
        ),
        text("name3", "3-char Chinese name", s.name3),
        text("fragment2", "2-char Chinese fragment", s.fragment2),
        text("surname1", "1-char surname", s.surname1),
        text("chart_no", "exact chart number", s.chart_no),
        text("exam_id", "exact exam_id", s.exam_id),
        text("latin", f"Latin term '{s.latin_term}'", s.latin_term),
        search(
            "month_status",
            "one month + status",
            {**month, "exam_status": s.exam_status},
            {
                "orderDatetime": {"range": {"start": _at(s.month_start), "end": _at(s.month_end, end=True)}},
                "examStatus": {"exact": s.exam_status},
            },
        ),
        search("page500", "page 500", {"page": 500}, None, offset=PAGE_500_OFFSET),
        MixQuery(
            "detail",
            "detail",
            _rest("/studies/" + quote(s.exam_id)),
            graphql_request(STUDY_QUERY, {"examId": s.exam_id}),
            page=False,
        ),
        MixQuery(
            "options",
            "filter options",
            _rest("/studies/filters/options"),
            graphql_request(OPTIONS_QUERY),
            page=False,
            target_stat="p50_ms",
            target_ms=2.0,
        ),
        MixQuery(
            "statistics",
            f"studyStatistics {s.year}",
            None,
            graphql_request(STATISTICS_QUERY, {"filters": {"orderDatetime": {"range": year_range}}}),
            page=False,
        ),
    ]
