from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from sales import receivers  # noqa: F401 - connects the signal receivers
        from sales.exports import register_deal_export
        from sales.panels import register_sales_panels

        register_sales_panels()
        register_deal_export()
