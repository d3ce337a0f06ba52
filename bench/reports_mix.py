"""The reports benchmark's search mix (docs/performance.md, "Reports"): REST requests and GraphQL documents,
with the exact total each must answer, computed apart in SQL.

The searched values are drawn from the imported reports (deterministically: the report in the middle of the
table gives the exam_id, the radiologist and the month; the text terms are fixed words of the synthetic
reports, checked to be there). The synthetic reports hold no person's name in their text (the radiologist is
metadata), so the "3-character name" of the issue's mix is a 3-character Chinese word found in about 1 % of
reports, the one of ``WORD3_CANDIDATES`` nearest that share.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from bench.client import Request, graphql_request

PAGE_SIZE = 20
PAGE_500_OFFSET = (500 - 1) * PAGE_SIZE
SHARE_SAMPLE = 20_000  # documents read to estimate a term's share when choosing terms
CHAR1_CANDIDATES = ("肺", "見", "無")
CHAR2_CANDIDATES = ("氣胸", "骨折", "結石")
WORD3_CANDIDATES = ("脂肪肝", "膽結石", "膽囊炎", "肺栓塞", "縱膈腔", "硬腦膜", "腹腔內", "退化性", "六毫米")
WORD3_SHARE = 0.01
ENGLISH_WORD = "normal"
ENGLISH_PHRASE = "pleural effusion"

REPORT_FIELDS_GQL = (
    "reportId examId patientName examItem status radiologist verifiedAt version title reportType impression"
)
REPORTS_QUERY = (
    "query Reports($filters: ReportFilter, $ordering: ReportOrder, $pagination: OffsetPaginationInput) {"
    " reports(filters: $filters, ordering: $ordering, pagination: $pagination) {"
    " totalCount results { " + REPORT_FIELDS_GQL + " } } }"
)
REPORT_QUERY = (
    "query Report($reportId: String!) { report(reportId: $reportId) { reportId examId title reportType "
    "status version radiologist verifiedAt createdAt updatedAt findings impression content } }"
)
DEFAULT_ORDER = {"verifiedAt": "DESC"}  # REST's default sort, verified_at_desc


@dataclass(frozen=True)
class ReportSamples:
    reports: int
    char1: str
    char2: str
    word3: str
    english: str
    phrase: str
    radiologist: str
    exam_id: str
    detail_id: str
    month_start: dt.date
    month_end: dt.date


@dataclass(frozen=True)
class ReportQuery:
    key: str
    label: str
    rest: Request
    graphql: Request
    expected_sql: str  # an exact count of the matches, computed apart from the product's search
    expected_params: tuple
    terms: tuple[str, ...] = ()  # the free-text terms (the expected counts of these are done in one pass)


def _share(cursor, term: str) -> float:
    cursor.execute(
        "SELECT coalesce(avg((document LIKE %s)::int), 0) FROM "
        "(SELECT document FROM report_search ORDER BY report_id LIMIT %s) sample",
        [f"%{term.lower()}%", SHARE_SAMPLE],
    )
    return float(cursor.fetchone()[0])


def _first_present(cursor, candidates: tuple[str, ...]) -> str:
    return next((term for term in candidates if _share(cursor, term) > 0), candidates[0])


def draw_samples(cursor) -> ReportSamples:
    """The searched values, from the report tables (a DB-API cursor on the benchmark database)."""
    cursor.execute("SELECT count(*) FROM report")
    total = cursor.fetchone()[0]
    if not total:
        raise ValueError("The report table is empty")
    cursor.execute(
        "SELECT r.report_id, r.exam_id FROM report r JOIN report_version v ON v.id = r.current_id "
        "WHERE r.exam_id IS NOT NULL AND v.status = 'final' AND v.radiologist IS NOT NULL "
        "AND r.report_id >= (SELECT report_id FROM report ORDER BY report_id OFFSET %s LIMIT 1) "
        "ORDER BY r.report_id LIMIT 1",
        [total // 2],
    )
    row = cursor.fetchone()
    if row is None:  # a tiny table: any report will do
        cursor.execute("SELECT report_id, exam_id FROM report ORDER BY report_id LIMIT 1")
        row = cursor.fetchone()
    detail_id, exam_id = row
    cursor.execute(
        "SELECT v.radiologist, v.verified_at FROM report_version v JOIN report r ON r.current_id = v.id "
        "WHERE v.status = 'final' AND v.radiologist IS NOT NULL AND r.report_id >= %s "
        "ORDER BY r.report_id LIMIT 1",
        [detail_id],
    )
    radiologist, verified = cursor.fetchone() or ("", dt.datetime(2024, 1, 1))
    month_start = verified.date().replace(day=1)
    month_end = month_start.replace(day=calendar.monthrange(month_start.year, month_start.month)[1])
    shares = {term: _share(cursor, term) for term in WORD3_CANDIDATES}
    word3 = min(WORD3_CANDIDATES, key=lambda term: (abs(shares[term] - WORD3_SHARE), term))
    return ReportSamples(
        reports=total,
        char1=_first_present(cursor, CHAR1_CANDIDATES),
        char2=_first_present(cursor, CHAR2_CANDIDATES),
        word3=word3,
        english=ENGLISH_WORD,
        phrase=ENGLISH_PHRASE,
        radiologist=radiologist or "",
        exam_id=exam_id or "",
        detail_id=detail_id,
        month_start=month_start,
        month_end=month_end,
    )


def total_check(key: str, expected: int) -> object:
    """A ``Request.check``: the answer's total (REST ``total``, GraphQL ``totalCount``) is ``expected``."""

    def check(body: bytes) -> str | None:
        document = json.loads(body)
        if key == "totalCount":
            if document.get("errors"):
                return "GraphQL errors: " + "; ".join(str(e.get("message")) for e in document["errors"])[:300]
            got = ((document.get("data") or {}).get("reports") or {}).get("totalCount")
        else:
            got = document.get("total")
        return None if got == expected else f"total {got!r}, expected {expected:,} (exact count in SQL)"

    return check


def _rest(params: dict, check=None) -> Request:
    return Request("GET", "/api/v1/reports/search?" + urlencode(params, doseq=True), check=check)


def _graphql(filters: dict | None, offset: int, check=None) -> Request:
    variables: dict = {"ordering": DEFAULT_ORDER, "pagination": {"offset": offset, "limit": PAGE_SIZE}}
    if filters:
        variables["filters"] = filters
    request = graphql_request(REPORTS_QUERY, variables)
    return Request(request.method, request.path, request.body, request.headers, check=check or request.check)


def _like(term: str) -> str:
    return "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_CURRENT = "FROM report r JOIN report_version v ON v.id = r.current_id"


def build_mix(s: ReportSamples, expected: dict[str, int] | None = None) -> list[ReportQuery]:
    """The mix; with ``expected`` (key -> exact total) every answer's total is checked against it."""

    def query(key, label, params, filters, sql, sql_params=(), terms=(), offset=0) -> ReportQuery:
        total = (expected or {}).get(key)
        rest_check = total_check("total", total) if total is not None else None
        graphql_check = total_check("totalCount", total) if total is not None else None
        rest = _rest({**params, "page_size": PAGE_SIZE}, rest_check)
        return ReportQuery(
            key, label, rest, _graphql(filters, offset, graphql_check), sql, tuple(sql_params), tuple(terms)
        )

    def text(key: str, label: str, q: str) -> ReportQuery:
        terms = tuple(q.split())
        where = " AND ".join(["document LIKE %s"] * len(terms))
        sql = f"SELECT count(*) FROM report_search WHERE {where}"  # noqa: S608
        return query(key, label, {"q": q}, {"search": q}, sql, [_like(t) for t in terms], terms)

    month_to = dt.datetime.combine(s.month_end, dt.time(23, 59, 59))
    return [
        text("char1", f"1-char Chinese term '{s.char1}'", s.char1),
        text("char2", f"2-char Chinese term '{s.char2}'", s.char2),
        text("word3", f"3-char Chinese word '{s.word3}'", s.word3),
        text("english", f"English word '{s.english}'", s.english),
        text("phrase", f"English phrase '{s.phrase}'", s.phrase),
        query(
            "radiologist",
            "radiologist filter",
            {"radiologist": s.radiologist},
            {"radiologists": [s.radiologist]},
            f"SELECT count(*) {_CURRENT} WHERE v.radiologist = %s",
            [s.radiologist],
        ),
        query(
            "exam_id",
            "exam_id filter",
            {"exam_id": s.exam_id},
            {"examIds": [s.exam_id]},
            "SELECT count(*) FROM report WHERE exam_id = %s",
            [s.exam_id],
        ),
        query(
            "month_final",
            f"finals of {s.month_start:%Y-%m}",
            {"status": "final", "start_date": s.month_start.isoformat(), "end_date": s.month_end.isoformat()},
            {
                "statuses": ["final"],
                "verifiedFrom": f"{s.month_start.isoformat()}T00:00:00",
                "verifiedTo": month_to.isoformat(),
            },
            f"SELECT count(*) {_CURRENT} WHERE v.status = 'final' "
            "AND v.verified_at >= %s AND v.verified_at <= %s",
            [dt.datetime.combine(s.month_start, dt.time()), month_to],
        ),
        query(
            "page500",
            "page 500",
            {"page": 500},
            None,
            "SELECT count(*) FROM report",
            offset=PAGE_500_OFFSET,
        ),
    ]


def exact_totals(cursor, mix: list[ReportQuery]) -> dict[str, int]:
    """Each query's exact total: the text terms in one pass over every document (``LIKE``), the rest by
    their own count on the reports' current versions."""
    totals: dict[str, int] = {}
    texts = [query for query in mix if query.terms]
    if texts:
        columns = ", ".join(
            "count(*) FILTER (WHERE " + " AND ".join(["document LIKE %s"] * len(query.terms)) + ")"
            for query in texts
        )
        cursor.execute(
            f"SELECT {columns} FROM report_search",  # noqa: S608
            [param for query in texts for param in query.expected_params],
        )
        totals.update(zip((query.key for query in texts), cursor.fetchone(), strict=True))
    for query in mix:
        if not query.terms:
            cursor.execute(query.expected_sql, list(query.expected_params))
            totals[query.key] = cursor.fetchone()[0]
    return totals


def detail_requests(s: ReportSamples) -> tuple[Request, Request]:
    def check(body: bytes) -> str | None:
        document = json.loads(body)
        if document.get("errors"):
            return "GraphQL errors: " + "; ".join(str(e.get("message")) for e in document["errors"])[:300]
        found = ((document.get("data") or {}).get("report") if "data" in document else document) or {}
        if found.get("reportId", found.get("report_id")) != s.detail_id:
            return "the answer is not the report asked for"
        return None

    rest = Request("GET", "/api/v1/reports/" + quote(s.detail_id, safe=""), check=check)
    gql = graphql_request(REPORT_QUERY, {"reportId": s.detail_id})
    return rest, Request(gql.method, gql.path, gql.body, gql.headers, check=check)


def options_request() -> Request:
    return Request(
        "GET",
        "/api/v1/reports/filters/options",
        check=lambda body: None if json.loads(body) else "an empty answer",
    )
