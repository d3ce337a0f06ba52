from django.apps import AppConfig
from django.core import checks


class GraphQLSchemaConfig(AppConfig):
    """An app only so that its system check runs with every ``manage.py`` command; it has no models."""

    name = "graphql_schema"
    verbose_name = "GraphQL API"

    def ready(self) -> None:
        from graphql_schema.versions import check_graphql_versions

        checks.register(check_graphql_versions, checks.Tags.compatibility)
