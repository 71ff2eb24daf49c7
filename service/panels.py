"""Service panels on pages other apps own (the customer's 360° page)."""

from django.utils.translation import gettext_lazy as _

from crm.lib.panels import CUSTOMER_PAGE, HOME_PAGE, Panel, register_panel


def register_service_panels() -> None:
    from service.views.agent import HOME_QUEUE_PANEL, home_queue_context
    from service.views.tickets import CUSTOMER_TICKETS_PANEL, customer_tickets_context

    register_panel(
        CUSTOMER_PAGE,
        Panel(
            title=_("Tickets"),
            url_name="service:customer-tickets-panel",
            permission="service.view_ticket",
            order=30,
            template=CUSTOMER_TICKETS_PANEL,
            context=customer_tickets_context,
            deferred=True,  # counts every ticket of the customer and averages their CSAT
        ),
    )
    register_panel(
        HOME_PAGE,
        Panel(
            title=_("My queue"),
            url_name="service:home-queue-panel",
            permission="service.work_ticket",
            order=5,
            template=HOME_QUEUE_PANEL,
            context=home_queue_context,  # the agent's queue counts
        ),
    )
