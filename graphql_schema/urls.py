"""URLs of the GraphQL API: the endpoint (GraphiQL for a browser's GET; its assets are static files)."""

from django.urls import path

from graphql_schema.views import graphql_view

urlpatterns = [
    path("graphql", graphql_view, name="graphql"),
]
