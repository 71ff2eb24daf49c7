from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from customers.search import register_customer_search

        register_customer_search()
        from crm.lib.panels import HOME_PAGE, Panel, register_panel
        from customers.exports import register_customer_export

        register_customer_export()
        _register_attachment_owners()

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


def _may_see_interaction(user, interaction) -> bool:
    from customers.selectors import customers_visible_to

    return customers_visible_to(user).filter(pk=interaction.customer_id).exists()


def _may_add_to_interaction(user, interaction) -> bool:
    from customers.selectors import can_work_customer

    return can_work_customer(user, interaction.customer)


def _register_attachment_owners() -> None:
    """An email interaction's files (the drop-box's and the compose page's): whoever may see
    the customer may download them; whoever may work the customer may add some."""
    from core.attachments import register_attachment_owner
    from customers.models import Interaction

    register_attachment_owner(
        Interaction, can_view=_may_see_interaction, can_add=_may_add_to_interaction
    )
