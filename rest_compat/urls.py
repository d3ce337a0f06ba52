"""``/api/v1/``: the legacy REST contract; unknown paths under it answer JSON 404 (``middleware``)."""

from django.urls import path

from rest_compat.api import api
from rest_compat.docs import docs_asset

urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="rest-docs-asset"),
    path("", api.urls),
]
