"""``/api/v1/reports``: writing a report and reading one with its versions (docs/rest-contract.md, Reports).

``POST /reports`` needs a reporter (or admin); reading needs a viewer. Every write and every read is an audit
event naming the report, its version and its study, never the text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from rest_compat import auth as rest_auth
from rest_compat.params import ReportSearchParams, sent_parameters
from rest_compat.responses import error_response, json_response
from server.access import audit
from server.access.roles import REPORTER, VIEWER
from server.reports import search, selectors
from server.reports.lifecycle import LifecycleViolation, UnknownStatus
from server.reports.models import Report, ReportVersion
from server.reports.services import (
    CREATED,
    InvalidReport,
    ReportChanged,
    SavedReport,
    audit_write,
    save_report,
)

reports = Router(tags=["reports"], auth=rest_auth.RoleBearer(VIEWER))

_TEXT_FIELDS = ("report_id", "exam_id", "content", "status", "radiologist", "title", "report_type")
_REQUIRED = ("exam_id", "content", "status")
_IF_MATCH = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')
_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
PREVIEW_LENGTH = 200


class BadRequest(ValueError):
    """The request's body or headers are malformed; the message says how (400)."""


@reports.post("", auth=rest_auth.RoleBearer(REPORTER), summary="Write a report (a new one, or a new version)")
def write_report(request: HttpRequest) -> HttpResponse:
    try:
        fields = _parse_body(request.body)
        expected = _parse_if_match(request.headers.get("If-Match"))
        saved = save_report(
            **fields,
            expected_version=expected,
            on_saved=lambda saved: audit_write(request, _status_of(saved), saved, fields["exam_id"]),
        )
    except (BadRequest, InvalidReport, UnknownStatus) as error:
        return error_response(400, str(error))
    except ReportChanged:
        return _audited(request, 412, error_response(412, "Report has changed"), fields)
    except LifecycleViolation as error:
        return _audited(request, 409, error_response(409, str(error)), fields)
    status = _status_of(saved)
    response = json_response(
        {"report_id": saved.report_id, "version": saved.version, "action": saved.action}, status=status
    )
    response["ETag"] = f'"{saved.version}"'
    return response


# The fixed paths come before /{report_id}, which would otherwise capture them.
@reports.get("/search", summary="Search reports (current versions only)")
def search_reports(request: HttpRequest, params: Query[ReportSearchParams]) -> HttpResponse:
    offset, limit = params.offset_and_limit()
    filters, sort = params.to_query()
    page = search.search_reports(filters, sort, offset=offset, limit=limit)
    audit.record_event(
        audit.REPORT_SEARCH,
        200,
        request,
        parameters={**sent_parameters(request), "report_ids": [report.report_id for report in page.results]},
        record_count=len(page.results),
        exam_ids=[report.study_id for report in page.results if report.study_id],
    )
    return json_response(
        {
            "data": [report_json(report) for report in page.results],
            "total": page.total,
            "page": params.page,
            "page_size": params.page_size,
            "filters": selectors.filter_options(),
        }
    )


@reports.get("/filters/options", summary="Report filter drop-down values")
def report_filter_options(request: HttpRequest) -> HttpResponse:
    return json_response(selectors.filter_options())


@reports.get("/{report_id}", summary="One report, with its current text")
def report_detail(request: HttpRequest, report_id: str) -> HttpResponse:
    report = selectors.get_report(report_id)
    _record_read(request, audit.REPORT_DETAIL, report_id, report)
    if report is None:
        return error_response(404, "Report not found")
    body = report_json(report)
    study = report.study
    body["content"] = report.current.content
    body["equipment_type"] = study.equipment_type if study else None
    body["order_datetime"] = _datetime(study.order_datetime) if study else None
    return json_response(body)


@reports.get("/{report_id}/versions", summary="A report's versions, oldest first")
def report_versions(request: HttpRequest, report_id: str) -> HttpResponse:
    report = selectors.get_report(report_id)
    _record_read(request, audit.REPORT_VERSIONS, report_id, report)
    if report is None:
        return error_response(404, "Report not found")
    return json_response([_version_json(version) for version in selectors.versions_of(report_id)])


@reports.get("/{report_id}/versions/{version}", summary="One version of a report, with its text")
def report_version(request: HttpRequest, report_id: str, version: int) -> HttpResponse:
    report = selectors.get_report(report_id)
    found = selectors.get_version(report_id, version) if report is not None else None
    _record_read(request, audit.REPORT_DETAIL, report_id, report if found else None, version=version)
    if found is None:
        return error_response(404, "Report not found" if report is None else "Version not found")
    return json_response({**_version_json(found), "content": found.content})


def report_json(report: Report) -> dict[str, Any]:
    """The contract's Report object, its keys in contract order."""
    current, study = report.current, report.study
    return {
        "report_id": report.report_id,
        "exam_id": study.exam_id if study else None,
        "patient_name": study.patient_name if study else None,
        "exam_item": study.exam_item if study else None,
        "findings": current.findings,
        "radiologist": current.radiologist,
        "created_at": _datetime(report.created_at),
        "status": current.status,
        "impression": current.impression,
        "title": report.title,
        "report_type": report.report_type,
        "version": current.number,
        "verified_at": _datetime(current.verified_at),
        "updated_at": _datetime(current.stored_at),
        "content_preview": current.content[:PREVIEW_LENGTH],
    }


def _version_json(version: ReportVersion) -> dict[str, Any]:
    return {
        "version": version.number,
        "status": version.status,
        "radiologist": version.radiologist,
        "verified_at": _datetime(version.verified_at),
        "stored_at": _datetime(version.stored_at),
        "change": version.change,
        "content_hash": version.content_hash,
    }


def _datetime(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0, tzinfo=None).isoformat()


def _parse_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # nested past Python's limit: hostile
        raise BadRequest("The request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object")
    unknown = sorted(set(data) - {*_TEXT_FIELDS, "verified_at"})
    if unknown:
        raise BadRequest(f"Unknown field: {', '.join(unknown)}")
    for name in _REQUIRED:
        if data.get(name) is None:
            raise BadRequest(f"{name} is required")
    fields: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        if isinstance(value, str) and "\x00" in value:
            raise BadRequest(f"{name} must not contain NUL characters")
        if value is not None:
            fields[name] = value
    verified_at = data.get("verified_at")
    if verified_at is not None:
        if not isinstance(verified_at, str) or not _LOCAL_DATETIME.fullmatch(verified_at):
            raise BadRequest("verified_at must be a wall-clock time YYYY-MM-DDTHH:MM:SS")
        try:
            fields["verified_at"] = dt.datetime.fromisoformat(verified_at)
        except ValueError:
            raise BadRequest("verified_at is not a valid date and time") from None
    return fields


def _parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    match = _IF_MATCH.fullmatch(value)
    if match is None:
        raise BadRequest('If-Match must be a version number in quotes, e.g. "3"')
    return int(match.group(1))


def _status_of(saved: SavedReport) -> int:
    return 201 if saved.action == CREATED else 200


def _audited(request: HttpRequest, status: int, response: HttpResponse, fields: dict) -> HttpResponse:
    audit.record_event(
        audit.REPORT_WRITE,
        status,
        request,
        parameters={"report_id": fields.get("report_id")},
        record_count=0,
        exam_ids=[fields["exam_id"]],
    )
    return response


def _record_read(
    request: HttpRequest, action: str, report_id: str, report: Report | None, version: int | None = None
) -> None:
    parameters: dict[str, Any] = {"report_id": report_id.replace("\x00", "")}
    if version is not None:
        parameters["version"] = version
    audit.record_event(
        action,
        200 if report is not None else 404,
        request,
        parameters=parameters,
        record_count=1 if report is not None else 0,
        exam_ids=[report.study_id] if report is not None and report.study_id else [],
    )
