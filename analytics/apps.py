from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from analytics.erasure import analytics_data_of
        from analytics.panels import register_analytics_panels
        from analytics.readiness import register_readiness_checks
        from crm.lib.personal_data import DataSection, register_data_section

        register_analytics_panels()
        register_readiness_checks()
        register_data_section(DataSection("analytics", collect=analytics_data_of))
