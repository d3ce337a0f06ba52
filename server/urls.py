"""URL map of the whole product; each API package owns its own sub-tree."""

from django.urls import include, path

urlpatterns: list = [
    path("api/v1/", include("rest_compat.urls")),
    path("", include("graphql_schema.urls")),
]
