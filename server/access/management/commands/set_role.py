"""``manage.py set_role USERNAME ROLE``."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.access.roles import ROLES
from server.access.services import UserError, set_role


class Command(BaseCommand):
    help = "Give a user another role; their existing tokens are revoked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=ROLES)

    def handle(self, *args, username: str, role: str, **options):
        try:
            set_role(username, role)
        except UserError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(f"User {username!r} now has role {role}; their tokens were revoked.")
        )
