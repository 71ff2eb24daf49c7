from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from core import (  # noqa: F401  (connect their receivers)
            job_runs,  # the last run of each beat task (Celery's signals)
            signals,  # the audit log's sign-ins
        )
        from core.readiness import register_readiness_checks

        register_readiness_checks()
