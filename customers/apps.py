from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from customers.search import register_customer_search

        register_customer_search()
        from customers.name_keys import register_name_key_functions

        register_name_key_functions()
        from customers.timeline import register_customer_timeline

        register_customer_timeline()
        from crm.lib.panels import HOME_PAGE, Panel, register_panel
        from customers.attachment_rules import register_customer_attachments
        from customers.exports import register_customer_export
        from customers.views.activity import HOME_TASKS_PANEL, home_tasks_context
        from customers.views.customers import HOME_CUSTOMERS_PANEL, home_customers_context

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
                template=HOME_CUSTOMERS_PANEL,
                context=home_customers_context,  # six customers by the owner index
            ),
        )
        register_panel(
            HOME_PAGE,
            Panel(
                title=_("My open tasks"),
                url_name="customers:home-tasks-panel",
                permission="customers.view_task",
                order=10,
                template=HOME_TASKS_PANEL,
                context=home_tasks_context,  # eight open tasks
            ),
        )
