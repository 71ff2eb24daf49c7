from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Service")

    def ready(self):
        from service import receivers  # noqa: F401 - connects the signal receivers
        from service.panels import register_service_panels

        register_service_panels()
