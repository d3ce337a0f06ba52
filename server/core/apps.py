from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Plumbing every domain app uses (``server.core``); an app so that it can own the data version's model
    and the project's ``migrate`` command."""

    name = "server.core"
    label = "core"
    verbose_name = "Core"
