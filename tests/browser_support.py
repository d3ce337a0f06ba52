"""Shared set-up of the browser tests: Debian's chromium (``.ci/run`` installs it) driven by Playwright, with
every request that would leave the machine refused, as on a hospital network without internet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags chromium keeps calling home, which this network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed: apt-get install -y chromium (.ci/run does it)")


@dataclass
class OfflineBrowsing:
    """What a page asked for: the paths served locally, the addresses refused, and requests that failed."""

    page: Any
    local: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@contextmanager
def offline_page() -> Iterator[OfflineBrowsing]:
    """A chromium page on which every request leaving the machine is refused (and recorded)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            browsing = OfflineBrowsing(page=context.new_page())

            def only_local(route) -> None:
                url = urlsplit(route.request.url)
                if url.scheme in {"http", "https", "ws", "wss"} and url.hostname in LOCAL_HOSTS:
                    browsing.local.append(url.path)
                    route.continue_()
                else:
                    browsing.outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            browsing.page.on("requestfailed", lambda request: browsing.failed.append(request.url))
            browsing.page.on(
                "console", lambda message: browsing.console.append(f"{message.type}: {message.text}")
            )
            yield browsing
        finally:
            browser.close()
