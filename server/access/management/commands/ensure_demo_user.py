"""``manage.py ensure_demo_user``: the demo login of ``make run``, on the product's local cluster only."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection

from server.access.roles import EXPORTER
from server.access.services import create_user
from server.core.local_postgres import LOCAL_CLUSTER_NAME

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create a demo user with a random password and print it, if the local demo cluster has no users."

    def handle(self, *args, **options):
        # A demo login must never appear in production: the local cluster is the one `make run` starts
        # (server.core.local_postgres), which names itself so.
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('cluster_name')")
            if cursor.fetchone()[0] != LOCAL_CLUSTER_NAME:
                self.stdout.write("Not the local demo cluster: no demo user created.")
                return
        if get_user_model().objects.exists():
            self.stdout.write("Users exist already: no demo user created.")
            return
        password = secrets.token_urlsafe(12)
        create_user(DEMO_USERNAME, EXPORTER, password)
        self.stdout.write(f"Demo login (shown once): username {DEMO_USERNAME}  password {password}")
