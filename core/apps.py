from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from core import signals  # noqa: F401  (connects the audit log's receivers)
        from core.readiness import register_readiness_checks

        register_readiness_checks()
