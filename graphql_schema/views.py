"""The ``/graphql`` endpoint and its offline GraphiQL playground.

Strawberry's GraphiQL page loads React, GraphiQL and the explorer plugin from a CDN, which a hospital network
cannot reach. The page served here is Strawberry's own, with each CDN address replaced by the same file
vendored under ``static/graphql_schema/graphiql/`` (see the README there): the Subresource Integrity hashes in
the page still hold, so the browser checks it runs exactly the files Strawberry expects.

The vendored files are static files of this app, served by WhiteNoise like every other
(``server.core.static_files``): with ``DEBUG`` off, without ``collectstatic``, cached for good under their
versioned folders. GraphiQL's bundle is 3.5 MB, so it is committed gzip-compressed (0.7 MB) and sent as such.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from cross_web import HTTPException
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.templatetags.static import static
from strawberry.django.views import GraphQLView
from strawberry.http.ides import get_graphql_ide_html

from graphql_schema.schema import schema

ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphql_schema" / "graphiql"
_CDN_URL = re.compile(r"https://unpkg\.com/([^\"'\s]+)")


@cache
def vendored_assets() -> dict[str, Path]:
    """URL path (as on the CDN, e.g. ``react@18.2.0/umd/react.production.min.js``) to file, gzipped or not."""
    assets = {}
    for path in ASSETS_DIR.rglob("*"):
        if path.is_file() and path.suffix in {".js", ".css", ".gz"}:
            name = path.relative_to(ASSETS_DIR).as_posix()
            assets[name.removesuffix(".gz")] = path
    return assets


@cache
def playground_html() -> str:
    """Strawberry's GraphiQL page, every CDN address pointing at the vendored copy's static URL."""
    html = get_graphql_ide_html(graphql_ide="graphiql")
    missing = sorted({name for name in _CDN_URL.findall(html) if name not in vendored_assets()})
    if missing:
        # A Strawberry upgrade that moved to other versions: vendor them (see the assets' README).
        raise RuntimeError(f"GraphiQL assets not vendored: {', '.join(missing)}")
    return _CDN_URL.sub(lambda match: asset_url(match.group(1)), html)


def asset_url(name: str) -> str:
    """The static URL of a vendored file named as on the CDN (``.gz`` where it is kept compressed)."""
    stored = vendored_assets()[name].relative_to(ASSETS_DIR).as_posix()
    return static(f"graphql_schema/graphiql/{stored}")


class StudyGraphQLView(GraphQLView):
    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        """Strawberry refuses a malformed request with a plain-text 400; a GraphQL client expects a GraphQL
        error, so the same message comes back as ``{"errors": [{"message": ...}]}`` with the same status."""
        try:
            response = super().dispatch(request, *args, **kwargs)
        except RequestDataTooBig:
            response = HttpResponse("Request body too large", status=413, content_type="text/plain")
        except UnicodeDecodeError:  # the request adapter decodes the body before parse_json sees it
            response = HttpResponse("The request body is not UTF-8", status=400, content_type="text/plain")
        if 400 <= response.status_code < 500 and response.get("Content-Type", "").startswith("text/plain"):
            message = response.content.decode("utf-8", "replace")
            status = response.status_code
            response = JsonResponse({"data": None, "errors": [{"message": message}]}, status=status)
        return response

    def parse_json(self, data: str | bytes) -> object:
        """A body that is not UTF-8 JSON holding an object (or a batch) is the client's mistake, not a 500."""
        try:
            parsed = self.decode_json(data)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:  # nested past the limit
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(parsed, dict | list) or (
            isinstance(parsed, list) and not all(isinstance(item, dict) for item in parsed)
        ):
            raise HTTPException(400, 'The request body must be a JSON object with a "query"')
        return parsed

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(playground_html(), content_type="text/html; charset=utf-8")


graphql_view = StudyGraphQLView.as_view(schema=schema, graphql_ide="graphiql")
