"""Cross-cutting plumbing that every domain app uses: database connections and clusters, the request's scope,
middleware, error mapping. Domain apps (``server.studies``, ``server.access``, ...) import from here, never
from each other's internals, for any of it."""
