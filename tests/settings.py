"""Settings for the test suite: production settings (DEBUG off) with a fixed, test-only secret key."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret-" + "x" * 40)

from server.settings import *  # noqa: F403
