"""URL map of the whole product; each API package owns its own sub-tree."""

from django.urls import include, path

from server.core.metrics import metrics_view

urlpatterns: list = [
    path("api/v1/", include("rest_compat.urls")),
    path("metrics", metrics_view, name="metrics"),  # 404 unless METRICS_ENABLED and the caller is allowed
    path("", include("graphql_schema.urls")),
]
