"""URLs of the GraphQL API: the endpoint (GraphiQL for a browser's GET) and the playground's assets."""

from django.urls import path

from graphql_schema.views import graphql_view, playground_asset

urlpatterns = [
    path("graphql", graphql_view, name="graphql"),
    path("graphql/assets/<path:name>", playground_asset, name="graphql-playground-asset"),
]
