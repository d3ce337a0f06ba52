"""Scalars of the GraphQL API.

Every study time is the hospital's wall-clock time (docs/configuration.md, *Time*): no zone, no fraction,
exactly the format of the legacy REST contract. Strawberry's own ``DateTime`` would print microseconds and
accept offsets, so the API has a scalar of its own that does neither.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NewType

import strawberry
from graphql import GraphQLError

LocalDateTime = NewType("LocalDateTime", dt.datetime)

_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def serialize_local_datetime(value: dt.datetime) -> str:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"LocalDateTime cannot represent {type(value).__name__}")
    if value.tzinfo is not None:
        # Study times are stored without a zone; an aware value means a bug upstream, not a client error.
        raise ValueError("LocalDateTime cannot represent a datetime with a time zone")
    return value.replace(microsecond=0).isoformat()


def parse_local_datetime(value: object) -> dt.datetime:
    # GraphQLError, not ValueError: the message is for the client, and the error masking knows it.
    if not isinstance(value, str) or not _LOCAL_DATETIME.fullmatch(value):
        raise GraphQLError(
            "LocalDateTime must be a wall-clock time YYYY-MM-DDTHH:MM:SS, without zone or fraction"
        )
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise GraphQLError(f"LocalDateTime {value!r} is not a valid date and time") from error


LOCAL_DATETIME_SCALAR = strawberry.scalar(
    name="LocalDateTime",
    description=(
        "The hospital's wall-clock date and time, YYYY-MM-DDTHH:MM:SS (ISO 8601 without zone or fraction), "
        "exactly as in the source data."
    ),
    serialize=serialize_local_datetime,
    parse_value=parse_local_datetime,
)

SCALAR_MAP = {LocalDateTime: LOCAL_DATETIME_SCALAR}
