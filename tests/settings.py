"""Settings for the test suite: production settings (DEBUG off) with a fixed, test-only secret key."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret-" + "x" * 40)

from server.settings import *  # noqa: F403

# Hashing passwords slowly is a defence in production and a waste of minutes in a test suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
