from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from sales.search import register_deal_search

        register_deal_search()
        from crm.lib.personal_data import DataSection, register_data_section
        from sales import receivers  # noqa: F401 - connects the signal receivers
        from sales.attachment_rules import register_sales_attachments
        from sales.erasure import sales_data_of, sales_files_of
        from sales.exports import register_deal_export
        from sales.panels import register_sales_panels
        from sales.timeline import register_sales_timeline

        register_sales_panels()
        register_sales_timeline()
        register_sales_attachments()
        register_deal_export()
        register_data_section(DataSection("sales", collect=sales_data_of, files=sales_files_of))
