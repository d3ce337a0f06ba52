"""JSON exactly as the legacy FastAPI backend wrote it: compact separators, UTF-8 text (not ``\\uXXXX``)."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja.renderers import BaseRenderer

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def render_json(data: Any) -> bytes:
    # The separators and ensure_ascii=False are those of Starlette's JSONResponse.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(render_json(data), status=status, content_type=JSON_CONTENT_TYPE)


def error_response(status: int, detail: str | None = None) -> HttpResponse:
    """``{"detail": "..."}``; without a message, the status's standard phrase (``Not Found``...)."""
    return json_response({"detail": detail if detail is not None else HTTPStatus(status).phrase}, status)


class CompactJSONRenderer(BaseRenderer):
    """What django-ninja uses for the responses it makes itself (validation errors, HttpError)."""

    media_type = "application/json"
    charset = "utf-8"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return render_json(data)
