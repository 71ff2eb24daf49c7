from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from analytics.panels import register_analytics_panels
        from analytics.readiness import register_readiness_checks

        register_analytics_panels()
        register_readiness_checks()
