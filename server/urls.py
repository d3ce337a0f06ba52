"""URL map of the whole product; each API package owns its own sub-tree."""

urlpatterns: list = []
