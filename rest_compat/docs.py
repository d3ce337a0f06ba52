"""``/api/v1/docs``: Swagger UI from the copy bundled in django-ninja, served by this app itself.

ninja's own page points at ``{% static 'ninja/...' %}``, which nothing serves once ``DEBUG`` is off (no
``collectstatic``, no web server in front configured for it), and its fallback without ``ninja`` installed
loads from a CDN. Here the page is ours and ``docs_asset`` sends the package's files, so the docs work on a
hospital network with no internet access, in production as in development. Swagger UI's online validator
badge (an image from validator.swagger.io) is switched off for the same reason.
"""

from __future__ import annotations

import json
import mimetypes
from functools import cache
from pathlib import Path
from typing import Any

import ninja
from django.http import Http404, HttpRequest, HttpResponse
from django.template import Context, Engine
from django.urls import reverse
from django.utils.safestring import mark_safe
from ninja.openapi.docs import Swagger

ASSETS_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.png", "favicon.svg")
_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

_PAGE = Engine().from_string(
    """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <link type="text/css" rel="stylesheet" href="{{ assets }}swagger-ui.css">
    <link rel="icon" href="{{ assets }}favicon.svg" type="image/svg+xml">
    <link rel="icon" href="{{ assets }}favicon.png" type="image/png">
    <title>{{ title }}</title>
</head>
<body data-csrf-token="" data-api-csrf="">
    <script type="application/json" id="swagger-settings">{{ settings }}</script>
    <div id="swagger-ui"></div>
    <script src="{{ assets }}swagger-ui-bundle.js"></script>
    <script src="{{ assets }}swagger-ui-init.js"></script>
</body>
</html>
"""
)


class OfflineSwagger(Swagger):
    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__({"validatorUrl": None, **(settings or {})})

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        assets = reverse("rest-docs-asset", kwargs={"name": "x"}).removesuffix("x")
        # JSON in a <script> element: "<" escaped so that no value can close the element.
        settings_json = mark_safe(json.dumps(settings).replace("<", "\\u003c"))  # noqa: S308
        html = _PAGE.render(Context({"assets": assets, "title": api.title, "settings": settings_json}))
        return HttpResponse(html, content_type="text/html; charset=utf-8")


@cache
def _asset(name: str) -> bytes:
    return (ASSETS_DIR / name).read_bytes()


def docs_asset(request: HttpRequest, name: str) -> HttpResponse:
    if name not in ASSETS:
        raise Http404("No such asset")
    content_type = _CONTENT_TYPES.get(Path(name).suffix) or mimetypes.guess_type(name)[0]
    response = HttpResponse(_asset(name), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
