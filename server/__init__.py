"""The Django project: settings, URLs, ASGI/WSGI entry points and the ``studies`` app that owns the data."""

__version__ = "0.1.0"
