"""The GraphiQL playground works on a network without internet: everything it loads comes from this server.

The end-to-end test drives Debian's chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) with Playwright,
never a browser that Playwright downloads, and refuses every request that leaves the machine.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from urllib.parse import quote

import pytest
from django.test import Client

from graphql_schema.views import vendored_assets
from server.core.data_version import bump_data_version
from server.studies.models import Study
from tests.browser_support import offline_page
from tests.conftest import bearer_headers, study_values


def playground_html() -> str:
    response = Client().get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_the_page_names_no_outside_address():
    html = playground_html()
    assert "unpkg" not in html
    # The only absolute URL left is the SVG namespace inside the inline (data:) favicon: not a request.
    assert set(re.findall(r"https?://[^\s\"'<>%]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert "GraphiQL.createFetcher" in html


ASSETS = "/static/graphql_schema/graphiql/"


def body(response) -> bytes:
    """What the browser runs: a static file streams, and a gzip-encoded one is decompressed first."""
    content = b"".join(response.streaming_content)
    return gzip.decompress(content) if response.get("Content-Encoding") == "gzip" else content


def test_every_asset_is_a_static_file_and_matches_its_integrity_hash():
    """Served by WhiteNoise (the one static-file server) with DEBUG off and nothing collected."""
    html = playground_html()
    tags = re.findall(r'(?:src|href)="(/static/[^"]+)"\s+integrity="(sha384-[^"]+)"', html)
    assert len(tags) == 7, tags
    client = Client()
    for url, integrity in tags:
        assert url.startswith(ASSETS), url
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200, url
        script = url.removesuffix(".gz").endswith(".js")
        assert response["Content-Type"].startswith("text/javascript" if script else "text/css"), url
        assert response["Cache-Control"] == "max-age=315360000, public, immutable"
        assert response["X-Content-Type-Options"] == "nosniff"
        digest = base64.b64encode(hashlib.sha384(body(response)).digest()).decode()
        assert f"sha384-{digest}" == integrity, url


def test_the_bundle_kept_compressed_is_sent_as_gzip_encoded_javascript():
    response = Client().get(ASSETS + "graphiql@3.8.3/graphiql.min.js.gz")
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert b"GraphiQL" in body(response)


@pytest.mark.parametrize(
    "path",
    [ASSETS + "../../views.py", "/static/graphql_schema/../views.py", ASSETS + "nope.js", "/static/env.py"],
)
def test_nothing_outside_the_static_folders_is_served(path):
    assert Client().get(path).status_code == 404


def test_vendored_files_stay_small():
    for path in vendored_assets().values():
        assert path.stat().st_size < 1_500_000, path


@pytest.mark.django_db(transaction=True)
def test_the_playground_runs_a_query_in_a_browser_without_internet(live_server, settings, tmp_path):
    settings.GRAPHQL_INTROSPECTION = True  # as in development, so that GraphiQL also loads the schema
    Study.objects.create(**study_values("20990000001", patient_name="測試病人"))
    Study.objects.create(**study_values("20990000002", patient_name="另一位"))
    bump_data_version()

    query = '{ studies(filters: {search: "測試"}) { totalCount results { examId patientName } } }'
    headers = json.dumps({"Authorization": bearer_headers("viewer")["HTTP_AUTHORIZATION"]})
    with offline_page() as browsing:
        page = browsing.page
        try:
            # Strawberry's page reads the initial query from ?q= and the headers editor's content from
            # ?headers= (decodeURIComponent: no "+" for spaces): the token a user would paste there.
            page.goto(f"{live_server.url}/graphql?q={quote(query)}&headers={quote(headers)}")
            page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
            page.click(".graphiql-execute-button")
            page.wait_for_function(
                "() => document.querySelector('.result-window')?.innerText.includes('20990000001')",
                timeout=30_000,
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "playground.png"))
            print("console:", *browsing.console, sep="\n  ")
            print("screenshot:", tmp_path / "playground.png")
            raise
        result = page.inner_text(".result-window")
    outside, failed, local = browsing.outside, browsing.failed, browsing.local

    assert "測試病人" in result and '"totalCount": 1' in result
    assert "20990000002" not in result
    assert outside == [], outside
    assert failed == [], failed
    # The interception saw the page, its seven assets and the GraphQL requests (introspection, the query).
    assert sum(path.startswith(ASSETS) for path in local) == 7, local
    assert local.count("/graphql") >= 3, local
