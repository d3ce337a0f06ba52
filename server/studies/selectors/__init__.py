"""The one study query layer (HackSoft's "selectors"): GraphQL resolvers and REST views both call these.

Plain functions over typed arguments that return querysets, pages, option lists and statistics. Neither API
holds query logic of its own, so a search gives the same answer whichever way it is asked.
"""

from server.studies.selectors.options import OPTION_FIELDS, FilterOptions, filter_options
from server.studies.selectors.rows import iter_study_rows
from server.studies.selectors.search import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SORT,
    MAX_PAGE_SIZE,
    MAX_SEARCH_LENGTH,
    SORTABLE_FIELDS,
    InvalidQuery,
    Page,
    Sort,
    StudyFilters,
    check_page_bounds,
    count_studies,
    filter_condition,
    filter_studies,
    get_study,
    order_studies,
    page_of,
    search_condition,
    search_studies,
    studies_where,
)
from server.studies.selectors.statistics import (
    DurationSummary,
    Granularity,
    PeriodCount,
    TimelineField,
    Turnaround,
    ValueCount,
    count_by,
    duration_summary,
    timeline,
    turnaround,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_SORT",
    "MAX_PAGE_SIZE",
    "MAX_SEARCH_LENGTH",
    "OPTION_FIELDS",
    "SORTABLE_FIELDS",
    "DurationSummary",
    "FilterOptions",
    "Granularity",
    "InvalidQuery",
    "Page",
    "PeriodCount",
    "Sort",
    "StudyFilters",
    "TimelineField",
    "Turnaround",
    "ValueCount",
    "check_page_bounds",
    "count_by",
    "count_studies",
    "duration_summary",
    "filter_condition",
    "filter_options",
    "filter_studies",
    "get_study",
    "iter_study_rows",
    "order_studies",
    "page_of",
    "search_condition",
    "search_studies",
    "studies_where",
    "timeline",
    "turnaround",
]
