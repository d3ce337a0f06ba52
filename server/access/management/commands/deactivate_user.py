"""``manage.py deactivate_user USERNAME``."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.access.services import UserError, deactivate_user


class Command(BaseCommand):
    help = "Deactivate a user; every token they hold stops working at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            deactivate_user(username)
        except UserError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"User {username!r} is deactivated and their tokens revoked."))
