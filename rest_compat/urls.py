"""``/api/v1/``: the legacy REST contract; unknown paths under it answer JSON 404 (``middleware``)."""

from django.urls import path

from rest_compat.api import api

urlpatterns = [
    path("", api.urls),
]
