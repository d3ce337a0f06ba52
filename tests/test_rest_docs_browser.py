"""The REST docs page (Swagger UI) renders in a browser that may reach nothing but this server.

Like the GraphQL playground's test: Debian's chromium (``.ci/run`` installs it) driven by Playwright, every
request leaving the machine refused, with DEBUG off as in production.
"""

from __future__ import annotations

import pytest

from tests.browser_support import offline_page


@pytest.mark.django_db(transaction=True)
def test_the_docs_page_renders_every_endpoint_without_internet(live_server, tmp_path):
    with offline_page() as browsing:
        page = browsing.page
        try:
            page.goto(f"{live_server.url}/api/v1/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        except Exception:
            page.screenshot(path=str(tmp_path / "docs.png"))
            print("screenshot:", tmp_path / "docs.png")
            raise
        paths = page.eval_on_selector_all(
            ".opblock-summary-path", "elements => elements.map(e => e.innerText.replace(/\\u200b/g, ''))"
        )
    outside, failed, local = browsing.outside, browsing.failed, browsing.local

    assert set(paths) >= {
        "/api/v1/studies/search",
        "/api/v1/studies/export",
        "/api/v1/studies/filters/options",
        "/api/v1/studies/{exam_id}",
        "/api/v1/health",
    }, paths
    assert outside == [], outside
    assert failed == [], failed
    assert "/api/v1/openapi.json" in local
    assert sum(path.startswith("/static/ninja/") for path in local) >= 3, local
