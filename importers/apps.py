from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "importers"
    verbose_name = "Study importers"
    default_auto_field = "django.db.models.BigAutoField"
