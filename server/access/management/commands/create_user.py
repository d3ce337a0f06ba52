"""``manage.py create_user USERNAME --role ROLE [--email E] [--password-stdin]``."""

from __future__ import annotations

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.access.roles import ROLES
from server.access.services import UserError, create_user


class Command(BaseCommand):
    help = "Create a user with a role. The password is read from a prompt or stdin, never from an argument."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email")
        parser.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    def handle(self, *args, username: str, role: str, email: str | None, password_stdin: bool, **options):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match")
        try:
            create_user(username, role, password, email)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        except UserError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Created user {username!r} with role {role}."))
