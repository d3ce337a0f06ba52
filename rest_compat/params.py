"""The query parameters of the contract: declared for validation and the OpenAPI document, then turned into
the query layer's ``StudyFilters`` and ``Sort``.

Type errors (a non-integer ``page``, an unparseable date) are pydantic's and come back as the contract's 422;
range and consistency errors are checked here and come back as 400 with the contract's messages.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.parser import Parser
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from server.reports.search import ReportFilters, ReportSort
from server.studies.selectors import MAX_PAGE_SIZE, MAX_SEARCH_LENGTH, Sort, StudyFilters

SORTS: dict[str, Sort] = {
    "order_datetime_desc": Sort("order_datetime", descending=True),
    "order_datetime_asc": Sort("order_datetime"),
    "patient_name_asc": Sort("patient_name"),
    "patient_name_desc": Sort("patient_name", descending=True),
    "check_in_datetime_desc": Sort("check_in_datetime", descending=True),
    "check_in_datetime_asc": Sort("check_in_datetime"),
}
DEFAULT_SORT_NAME = "order_datetime_desc"
EXPORT_FORMATS = ("csv", "xlsx")

# The exact-match filters that may be repeated, and the StudyFilters attribute each one feeds.
LIST_FILTERS = {
    "exam_status": "exam_statuses",
    "exam_source": "exam_sources",
    "exam_item": "exam_items",
    "equipment_type": "equipment_types",
    "patient_gender": "patient_genders",
    "exam_room": "exam_rooms",
    "exam_equipment": "exam_equipments",
    "certified_physician": "certified_physicians",
}


class BadParameter(HttpError):
    """400 ``{"detail": "Invalid parameter: ..."}``."""

    def __init__(self, message: str) -> None:
        super().__init__(400, f"Invalid parameter: {message}")


class LegacyQueryParser(Parser):
    """Query strings as the legacy frontend sends them.

    ``exam_source[]=CT`` (the bracket form of PHP and jQuery) means ``exam_source=CT``, both forms may be
    mixed, and empty values are ignored, as if the parameter had not been sent.
    """

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        values: dict[str, list[str]] = {}
        for key, items in data.lists():
            name = key[:-2] if key.endswith("[]") else key
            values.setdefault(name, []).extend(item for item in items if item.strip() != "")
        result: dict[str, Any] = {}
        for name, items in values.items():
            if name in list_fields:
                result[name] = items
            elif items:
                # A repeated single-valued parameter: the last one wins, as in Starlette.
                result[name] = items[-1]
        return result


def sent_parameters(request: HttpRequest) -> dict[str, list[str]]:
    """The query parameters as sent (lists, since any may repeat), for the audit trail."""
    return {key: request.GET.getlist(key) for key in request.GET}


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


def parse_wall_clock(value: str) -> tuple[dt.datetime, bool]:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` → (datetime, whether only a date was given).

    A time zone is refused rather than guessed at: every time here is the hospital's wall-clock time.
    """
    try:
        if _DATE.fullmatch(value):
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time()), True
        if _DATETIME.fullmatch(value):
            return dt.datetime.fromisoformat(value), False
    except ValueError:
        pass
    raise PydanticCustomError(
        "datetime_parsing",
        "Input should be a date (YYYY-MM-DD) or a datetime without time zone (YYYY-MM-DDTHH:MM:SS)",
    )


def _check_wall_clock(value: str | None) -> str | None:
    if value is not None:
        parse_wall_clock(value)
    return value


WallClock = Annotated[str | None, AfterValidator(_check_wall_clock)]


def date_range(start_date: str | None, end_date: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The inclusive bounds of ``start_date`` and ``end_date`` (already checked by ``WallClock``): a date
    alone as an end bound means the whole day."""
    start = parse_wall_clock(start_date)[0] if start_date else None
    end = None
    if end_date:
        end, date_only = parse_wall_clock(end_date)
        if date_only:  # the whole day: up to its last microsecond, the column's precision
            end = end.replace(hour=23, minute=59, second=59, microsecond=999_999)
    if start is not None and end is not None and start > end:
        raise BadParameter("start_date must not be after end_date")
    return start, end


def check_common(params: Schema) -> None:
    """What every search refuses whatever its fields: a NUL character anywhere, and ``q`` over the limit."""
    for name, value in params:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and "\x00" in item:
                raise BadParameter(f"{name} must not contain NUL characters")
    q = getattr(params, "q", None)
    if q is not None and len(q) > MAX_SEARCH_LENGTH:
        raise BadParameter(f"q must be at most {MAX_SEARCH_LENGTH} characters")


_LIST_HELP = "Exact match; repeat it (or use `{name}[]`) for any of several values. Empty values are ignored."


def _list_field(name: str) -> Any:
    return Field(default_factory=list, description=_LIST_HELP.format(name=name))


class FilterParams(Schema):
    """The filters and sort shared by search and export."""

    q: str | None = Field(
        None,
        description=(
            f"Free text, at most {MAX_SEARCH_LENGTH} characters: every whitespace-separated term must occur "
            "(case-insensitively) in exam_id, medical_record_no, application_order_no, patient_name, "
            "exam_description or exam_item."
        ),
    )
    exam_status: list[str] = _list_field("exam_status")
    exam_source: list[str] = _list_field("exam_source")
    exam_item: list[str] = _list_field("exam_item")
    equipment_type: list[str] = _list_field("equipment_type")
    patient_gender: list[str] = _list_field("patient_gender")
    exam_room: list[str] = _list_field("exam_room")
    exam_equipment: list[str] = _list_field("exam_equipment")
    certified_physician: list[str] = _list_field("certified_physician")
    application_order_no: str | None = Field(None, description="Exact match.")
    medical_record_no: str | None = Field(None, description="Exact match.")
    patient_age_min: int | None = Field(None, description="Inclusive.")
    patient_age_max: int | None = Field(None, description="Inclusive.")
    start_date: WallClock = Field(
        None, description="`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`, inclusive, on order_datetime."
    )
    end_date: WallClock = Field(
        None,
        description="`YYYY-MM-DD` (the whole day) or `YYYY-MM-DDTHH:MM:SS`, inclusive, on order_datetime.",
    )
    sort: str | None = Field(
        None, description=f"One of {', '.join(SORTS)}; default {DEFAULT_SORT_NAME}. Ties: exam_id."
    )

    def exam_ids_filter(self) -> tuple[str, ...]:
        return ()

    def to_query(self) -> tuple[StudyFilters, tuple[Sort, ...]]:
        """The query layer's filters and sort, or BadParameter with the contract's message."""
        check_common(self)
        sort_name = self.sort or DEFAULT_SORT_NAME
        if sort_name not in SORTS:
            raise BadParameter(f"sort must be one of {', '.join(SORTS)}")
        start, end = date_range(self.start_date, self.end_date)
        filters = StudyFilters(
            search=self.q,
            application_order_no=self.application_order_no,
            medical_record_no=self.medical_record_no,
            patient_age_min=self.patient_age_min,
            patient_age_max=self.patient_age_max,
            order_datetime_from=start,
            order_datetime_to=end,
            exam_ids=self.exam_ids_filter(),
            **{attribute: tuple(getattr(self, name)) for name, attribute in LIST_FILTERS.items()},
        )
        return filters, (SORTS[sort_name],)


class PageParams(Schema):
    page: int = Field(1, description="1 or more.")
    page_size: int = Field(20, description=f"1 to {MAX_PAGE_SIZE}.")

    def offset_and_limit(self) -> tuple[int, int]:
        if self.page < 1:
            raise BadParameter("page must be > 0")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise BadParameter(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        return (self.page - 1) * self.page_size, self.page_size


class SearchParams(PageParams, FilterParams):  # in this order, page and page_size come last
    pass


class ExportParams(FilterParams):
    format: str | None = Field(None, description="`csv` (default) or `xlsx`.")
    exam_ids: list[str] = Field(
        default_factory=list,
        description="Export only these studies (repeat it, or use `exam_ids[]`); combined with any filters.",
    )

    def exam_ids_filter(self) -> tuple[str, ...]:
        return tuple(self.exam_ids)

    def export_format(self) -> str:
        name = self.format or "csv"
        if name not in EXPORT_FORMATS:
            raise BadParameter("format must be csv or xlsx")
        return name


REPORT_SORTS: dict[str, ReportSort] = {
    "verified_at_desc": ReportSort("verified_at", descending=True),
    "verified_at_asc": ReportSort("verified_at", descending=False),
    "created_at_desc": ReportSort("created_at", descending=True),
    "created_at_asc": ReportSort("created_at", descending=False),
}
DEFAULT_REPORT_SORT_NAME = "verified_at_desc"


class ReportSearchParams(PageParams):
    q: str | None = Field(
        None,
        description=(
            f"Free text, at most {MAX_SEARCH_LENGTH} characters: every whitespace-separated term (one "
            "character or more, any script) must occur, case-insensitively, in the current text, title, "
            "report_id or exam_id."
        ),
    )
    exam_id: list[str] = _list_field("exam_id")
    status: list[str] = _list_field("status")
    report_type: list[str] = _list_field("report_type")
    radiologist: list[str] = _list_field("radiologist")
    start_date: WallClock = Field(
        None, description="`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`, inclusive, on verified_at."
    )
    end_date: WallClock = Field(
        None, description="`YYYY-MM-DD` (the whole day) or `YYYY-MM-DDTHH:MM:SS`, inclusive, on verified_at."
    )
    sort: str | None = Field(
        None,
        description=f"One of {', '.join(REPORT_SORTS)}; default {DEFAULT_REPORT_SORT_NAME}. "
        "Nulls last; ties: report_id.",
    )

    def to_query(self) -> tuple[ReportFilters, ReportSort]:
        """The report search's filters and sort, or BadParameter with the contract's message."""
        check_common(self)
        sort_name = self.sort or DEFAULT_REPORT_SORT_NAME
        if sort_name not in REPORT_SORTS:
            raise BadParameter(f"sort must be one of {', '.join(REPORT_SORTS)}")
        start, end = date_range(self.start_date, self.end_date)
        filters = ReportFilters(
            search=self.q,
            exam_ids=tuple(self.exam_id),
            statuses=tuple(self.status),
            report_types=tuple(self.report_type),
            radiologists=tuple(self.radiologist),
            verified_from=start,
            verified_to=end,
        )
        return filters, REPORT_SORTS[sort_name]
