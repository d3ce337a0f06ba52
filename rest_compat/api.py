"""The legacy REST contract (``docs/rest-contract.md``) on django-ninja, mounted at ``/api/v1/``.

Views are thin: they validate parameters (``params``), call the study query layer that GraphQL uses too, and
write the contract's JSON (``presentation``, ``responses``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Query, Router, Swagger
from ninja.errors import HttpError, ValidationError, ValidationErrorContext

import server
from rest_compat import auth as rest_auth
from rest_compat import export
from rest_compat.params import ExportParams, LegacyQueryParser, SearchParams, sent_parameters
from rest_compat.presentation import study_json, study_row
from rest_compat.reports import report_json, reports
from rest_compat.responses import (
    JSON_CONTENT_TYPE,
    CompactJSONRenderer,
    error_response,
    json_response,
    render_json,
)
from rest_compat.schemas import (
    ErrorOut,
    FilterOptionsOut,
    HealthOut,
    SearchOut,
    StudyOut,
    ValidationErrorOut,
)
from server.access import audit
from server.access.roles import EXPORTER, VIEWER
from server.core import database_errors
from server.core.cache import cached
from server.core.errors import InvalidQuery
from server.reports import selectors as report_selectors
from server.studies import selectors

logger = logging.getLogger(__name__)


class LegacyNinjaAPI(NinjaAPI):
    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        """FastAPI's 422 items: exactly type, loc, msg and input (ninja drops the input)."""
        errors = []
        for context in error_contexts:
            model = context.model
            for error in context.pydantic_validation_error.errors(include_url=False):
                loc = model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
                errors.append(
                    {
                        "type": error["type"],
                        "loc": [model.__ninja_param_source__, *loc],
                        "msg": error["msg"],
                        "input": error.get("input"),
                    }
                )
        return ValidationError(errors)


def _json_charset(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The docs views: give /openapi.json the contract's ``application/json; charset=utf-8``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.get("Content-Type", "").startswith("application/json"):
            response["Content-Type"] = JSON_CONTENT_TYPE
        return response

    return wrapper


api = LegacyNinjaAPI(
    title="Radiology studies: legacy REST API",
    version=server.__version__,
    description=(
        "The legacy frontend's contract (v1). Datetimes are hospital wall-clock time, "
        "`YYYY-MM-DDTHH:MM:SS`; missing values are null."
    ),
    urls_namespace="rest_v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=CompactJSONRenderer(),
    parser=LegacyQueryParser(),
    docs_decorator=_json_charset,
    # ninja's own page and its bundled Swagger UI, served as static files like every other
    # (server.core.static_files), so nothing loads from outside; the online validator's badge is an image
    # from validator.swagger.io, so it is off.
    docs=Swagger(settings={"validatorUrl": None}),
)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(exc.status_code, str(exc))


@api.exception_handler(InvalidQuery)
def _invalid_query(request: HttpRequest, exc: InvalidQuery) -> HttpResponse:
    return error_response(400, f"Invalid parameter: {exc}")


@api.exception_handler(export.ExportTooLarge)
def _export_too_large(request: HttpRequest, exc: export.ExportTooLarge) -> HttpResponse:
    return error_response(400, str(exc))


@api.exception_handler(MultiPartParserError)
def _malformed_body(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(400, "Malformed request body")


@api.exception_handler(RequestDataTooBig)
def _body_too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(413, "Request body too large")


@api.exception_handler(InterfaceError)  # "connection already closed"
@api.exception_handler(OperationalError)
def _database_unavailable(request: HttpRequest, exc: OperationalError | InterfaceError) -> HttpResponse:
    # The database refused the connection, went away or timed out: the client may retry, so 503, not 500.
    # A statement cut by STATEMENT_TIMEOUT_MS is one too, with its own message.
    message = database_errors.unavailability(exc) or database_errors.DATABASE_UNAVAILABLE
    logger.error("%s answering %s %s: %s", message, request.method, request.path, type(exc).__name__)
    return error_response(503, message)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The path only: the query string may hold a patient's name.
    logger.exception("Unhandled error answering %s %s", request.method, request.path)
    return error_response(500)


rest_auth.install(api)

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ValidationErrorOut}
# Every study endpoint needs a token of a viewer (or above); export needs an exporter.
studies = Router(tags=["studies"], auth=rest_auth.RoleBearer(VIEWER))


# The fixed paths come before /studies/{exam_id}, which would otherwise capture them.
@studies.get("/search", response={200: SearchOut, **ERRORS}, summary="Search studies")
def search(request: HttpRequest, params: Query[SearchParams]) -> HttpResponse:
    offset, limit = params.offset_and_limit()
    filters, sorts = params.to_query()
    page = selectors.search_studies(filters, sorts, offset=offset, limit=limit)
    options = selectors.filter_options()
    exam_ids = [study.exam_id for study in page.results]
    audit.record_event(
        audit.STUDY_SEARCH,
        200,
        request,
        parameters=sent_parameters(request),
        record_count=len(exam_ids),
        exam_ids=exam_ids,
    )
    return json_response(
        {
            "data": [study_json(study_row(study)) for study in page.results],
            "total": page.total,
            "page": params.page,
            "page_size": params.page_size,
            "filters": {
                "exam_statuses": options.exam_statuses,
                "exam_sources": options.exam_sources,
                "exam_items": options.exam_items,
            },
        }
    )


@studies.get(
    "/export",
    auth=rest_auth.RoleBearer(EXPORTER),
    response={200: None, **ERRORS},
    summary="Export studies as CSV or XLSX",
    description=(
        "The search filters and sort, plus `format` and `exam_ids`. CSV is streamed (UTF-8 with a BOM); XLSX "
        "is refused above `EXPORT_XLSX_MAX_ROWS` rows, with the count and the limit in the message."
    ),
)
def export_studies(request: HttpRequest, params: Query[ExportParams]) -> Any:
    file_format = params.export_format()
    filters, sorts = params.to_query()
    if file_format == "xlsx":
        limit = min(settings.EXPORT_XLSX_MAX_ROWS, export.XLSX_HARD_LIMIT)
    else:
        limit = settings.EXPORT_CSV_MAX_ROWS
    if limit:
        total = _count(filters)
        if total > limit:
            raise export.ExportTooLarge(file_format, total, limit)
    # The event is written when the download ends, with the exam_ids actually sent.
    # CSV wants the contract's text for times, which PostgreSQL writes faster; XLSX wants real dates.
    source = selectors.iter_study_rows(filters, sorts, times_as_text=file_format == "csv")
    rows = audit.audited_rows(source, request, audit.STUDY_EXPORT, sent_parameters(request))
    if file_format == "csv":
        return export.csv_response(rows)
    try:
        return export.xlsx_response(rows, limit)
    except export.ExportTooLarge:  # rows were imported since the count: count again for the message
        raise export.ExportTooLarge(file_format, _count(filters), limit) from None


def _count(filters: selectors.StudyFilters) -> int:
    return selectors.count_studies(selectors.filter_studies(filters))


@studies.get(
    "/filters/options", response={200: FilterOptionsOut, 401: ErrorOut}, summary="Filter drop-down values"
)
def filter_options(request: HttpRequest) -> HttpResponse:
    # The drop-downs load with every page: the rendered body is kept with the options, per data version.
    body = cached(("rest", "filter_options"), _rendered_filter_options)
    return HttpResponse(body, content_type=JSON_CONTENT_TYPE)


def _rendered_filter_options() -> bytes:
    return render_json(dataclasses.asdict(selectors.filter_options()))


@studies.get("/{exam_id}", response={200: StudyOut, 401: ErrorOut, 404: ErrorOut}, summary="One study")
def study_detail(request: HttpRequest, exam_id: str) -> HttpResponse:
    study = None if "\x00" in exam_id else selectors.get_study(exam_id)
    found = [study.exam_id] if study is not None else []
    audit.record_event(
        audit.STUDY_DETAIL,
        200 if found else 404,
        request,
        parameters={"exam_id": exam_id.replace("\x00", "")},
        record_count=len(found),
        exam_ids=found,
    )
    if study is None:
        return error_response(404, "Study not found")
    return json_response(study_json(study_row(study)))


@studies.get(
    "/{exam_id}/reports", response={200: None, 401: ErrorOut, 404: ErrorOut}, summary="A study's reports"
)
def study_reports(request: HttpRequest, exam_id: str) -> HttpResponse:
    study = None if "\x00" in exam_id else selectors.get_study(exam_id)
    found = report_selectors.reports_of_study(exam_id) if study is not None else []
    audit.record_event(
        audit.REPORT_LIST,
        200 if study is not None else 404,
        request,
        parameters={"exam_id": exam_id.replace("\x00", ""), "report_ids": [r.report_id for r in found]},
        record_count=len(found),
        exam_ids=[exam_id] if study is not None else [],
    )
    if study is None:
        return error_response(404, "Study not found")
    return json_response([report_json(report) for report in found])


api.add_router("/studies", studies)
api.add_router("/reports", reports)


@api.get(
    "/health", response={200: HealthOut, 503: HealthOut}, tags=["health"], summary="Liveness and database"
)
def health(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database does not answer", exc_info=True)
        return json_response(
            {"status": "error", "version": server.__version__, "database": "unavailable"}, status=503
        )
    return json_response({"status": "ok", "version": server.__version__, "database": "ok"})
