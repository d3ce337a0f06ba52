"""Every matching study, streamed as plain tuples: what the exports write.

The rows come from ``COPY (SELECT ...) TO STDOUT``. A server-side cursor hands them over a
chunk at a time, each asked for after the previous one is written, so PostgreSQL and the worker took turns
on one core each; COPY lets PostgreSQL produce rows while the worker writes the ones it has, and psycopg
parses them in C. Measured over a million rows, 25 to 40 % more rows a second for the same CSV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from django.db import connections, transaction
from django.db.models import CharField, F, Func, QuerySet, Value

from server.core.db import compile_query, without_statement_timeout
from server.studies.columns import DATETIME_FIELDS, STUDY_FIELDS
from server.studies.models import Study
from server.studies.selectors.search import DEFAULT_SORT, Sort, StudyFilters, filter_studies, order_studies

# The text a study's times have in the contract, written by PostgreSQL.
_TEXT_FORMATS = {
    **dict.fromkeys(DATETIME_FIELDS, 'YYYY-MM-DD"T"HH24:MI:SS'),
    "patient_birth_date": "YYYY-MM-DD",
}
# How psycopg reads each kind of column out of COPY's text; a column of another kind is refused (KeyError)
# rather than handed on as text.
_COPY_TYPES = {
    "CharField": "text",
    "DateField": "date",
    "DateTimeField": "timestamp",
    "SmallIntegerField": "int2",
}


def iter_study_rows(
    filters: StudyFilters | None = None,
    sorts: Sequence[Sort] = DEFAULT_SORT,
    times_as_text: bool = False,
) -> Iterator[tuple]:
    """Every matching study as a tuple in STUDY_FIELDS order, in ``sorts`` order.

    An export may rightly outlast the API's statement timeout, so the rows stream from one transaction
    with the timeout lifted, opened when iteration starts and closed with it (closing the
    iterator early cancels the rest).

    ``times_as_text`` gives the times and the birth date as the contract's text, ``2025-11-06T10:30:00``
    and ``1958-03-14``, written by PostgreSQL: a CSV of a million rows then neither parses four million
    dates into objects nor formats them back in Python, which was a third of its time.
    """
    matching = order_studies(filter_studies(filters), sorts)  # refuses bad filters now
    # The database is chosen now, in the request, whose replica its counts used: the rows are read after
    # the view has returned, when the router would pick a replica anew.
    matching = matching.using(matching.db)
    columns: list = list(STUDY_FIELDS)
    types = [_COPY_TYPES[Study._meta.get_field(name).get_internal_type()] for name in STUDY_FIELDS]
    if times_as_text:
        for position, name in enumerate(STUDY_FIELDS):
            if name in _TEXT_FORMATS:
                columns[position] = Func(
                    F(name), Value(_TEXT_FORMATS[name]), function="to_char", output_field=CharField()
                )
                types[position] = "text"
    return _copied(matching.values_list(*columns), types)


_TEXT_POSITIONS = tuple(STUDY_FIELDS.index(name) for name in _TEXT_FORMATS)


def with_times_as_text(row: Sequence) -> list:
    """A row in STUDY_FIELDS order with its times and birth date as the contract's text, as the
    ``_TEXT_FORMATS`` write them; None stays None, text stays as it is (rows read as model instances)."""
    values = list(row)
    for position in _TEXT_POSITIONS:
        value = values[position]
        if isinstance(value, dt.datetime):
            values[position] = value.isoformat(timespec="seconds")
        elif isinstance(value, dt.date):
            values[position] = value.isoformat()
    return values


def _copied(rows: QuerySet, types: list[str]) -> Iterator[tuple]:
    database = connections[rows.db]
    compiled = compile_query(rows)
    if compiled is None:  # a condition that can match nothing, such as `IN ()`: there is nothing to copy
        return
    # COPY takes no parameters: they are bound into the text on this side, as Django binds every query.
    statement = f"COPY ({database.ops.compose_sql(*compiled)}) TO STDOUT"
    with (
        transaction.atomic(using=rows.db),
        without_statement_timeout(database),
        database.cursor() as cursor,
        database.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        copy.set_types(types)
        yield from copy.rows()
