"""``manage.py ensure_demo_user``: the demo login of ``make run``, on the SQLite default database only."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from server.access.roles import EXPORTER
from server.access.services import create_user

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create a demo user with a random password and print it, if the SQLite demo database has no users."

    def handle(self, *args, **options):
        if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            self.stdout.write("Not the SQLite demo database: no demo user created.")
            return
        if get_user_model().objects.exists():
            self.stdout.write("Users exist already: no demo user created.")
            return
        password = secrets.token_urlsafe(12)
        create_user(DEMO_USERNAME, EXPORTER, password)
        self.stdout.write(f"Demo login (shown once): username {DEMO_USERNAME}  password {password}")
