from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from customers.search import register_customer_search

        register_customer_search()
        from customers.timeline import register_customer_timeline

        register_customer_timeline()
        from crm.lib.panels import HOME_PAGE, Panel, register_panel
        from customers.attachment_rules import register_customer_attachments
        from customers.exports import register_customer_export

        register_customer_export()
        register_customer_attachments()

        register_panel(
            HOME_PAGE,
            Panel(
                title=_("My customers"),
                url_name="customers:home-customers-panel",
                # Those who own customers (reps, managers); an agent owns none and sees
                # their queue instead (service's home panel).
                permission="customers.add_customer",
                order=20,
            ),
        )
        register_panel(
            HOME_PAGE,
            Panel(
                title=_("My open tasks"),
                url_name="customers:home-tasks-panel",
                permission="customers.view_task",
                order=10,
            ),
        )
