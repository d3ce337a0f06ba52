"""The legacy reports' import (``manage.py import_reports``): source, history, rows, PostgreSQL, service."""
