"""WhiteNoise as the one server of static files (the GraphQL playground's and the REST docs' assets).

WhiteNoise serves ``/static/`` from inside the application, with ``DEBUG`` on or off: what ``collectstatic``
put in ``STATIC_ROOT`` (with compressed copies) first, and from the apps' ``static`` folders whatever was not
collected (``WHITENOISE_USE_FINDERS``), so nothing must be collected for the pages to work. Two things it
cannot know are told here:

- A vendored file kept gzip-compressed in the repository (``*.js.gz``: GraphiQL's 3.5 MB bundle is 0.7 MB
  so) is sent as what it holds, with ``Content-Encoding: gzip``; the browser's integrity check applies to
  the decompressed bytes, which are the npm file's. Every browser accepts gzip.
- Files under a versioned npm folder (``graphiql@3.8.3/``) never change under that URL: cached for good.
"""

from __future__ import annotations

import mimetypes
import re
from wsgiref.headers import Headers

from whitenoise.middleware import WhiteNoiseMiddleware

_VERSIONED_FOLDER = re.compile(r"/(?:@[^/]+/)?[^/@]+@\d[^/]*/")
_TEXT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's middleware, except that a collected file is not replaced by the app folder's copy.

    WhiteNoise adds the finders' files after ``STATIC_ROOT``'s and lets them win, which would serve every
    asset uncompressed in production, where collectstatic has made the gzip and Brotli copies.
    """

    def add_files_from_finders(self) -> None:
        collected = dict(self.files)
        super().add_files_from_finders()
        self.files.update(collected)


def add_headers(headers: Headers, path: str, url: str) -> None:
    """``WHITENOISE_ADD_HEADERS_FUNCTION``."""
    if path.endswith(".gz"):
        inner = path.removesuffix(".gz")
        suffix = inner[inner.rfind(".") :]
        headers["Content-Type"] = _TEXT_TYPES.get(suffix) or mimetypes.guess_type(inner)[0] or "text/plain"
        headers["Content-Encoding"] = "gzip"


def is_immutable(path: str, url: str) -> bool:
    """``WHITENOISE_IMMUTABLE_FILE_TEST``: a vendored package's versioned folder."""
    return bool(_VERSIONED_FOLDER.search(url))
