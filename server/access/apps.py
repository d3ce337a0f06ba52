import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("server.access")


class AccessConfig(AppConfig):
    name = "server.access"
    label = "access"
    verbose_name = "Access control and audit"

    def ready(self) -> None:
        if settings.ALLOW_ANONYMOUS_READ:
            logger.warning(
                "ALLOW_ANONYMOUS_READ is on: patient data is served to callers without a token "
                "(their reads are still audited). Turn it off once the frontend can log in."
            )
