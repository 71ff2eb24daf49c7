"""Sales panels on pages other apps own (the customer's 360° page, the home page)."""

from django.utils.translation import gettext_lazy as _  # noqa: F401 - used by the panels below

from crm.lib.panels import CUSTOMER_PAGE, HOME_PAGE, Panel, register_panel  # noqa: F401


def register_sales_panels() -> None:
    from sales.views.deals import (
        CUSTOMER_DEALS_PANEL,
        HOME_PIPELINE_PANEL,
        customer_deals_context,
        home_pipeline_context,
    )
    from sales.views.orders import CUSTOMER_ORDERS_PANEL, customer_orders_context
    from sales.views.team import TEAM_PANEL, team_context

    register_panel(
        CUSTOMER_PAGE,
        Panel(
            title=_("Deals"),
            url_name="sales:customer-deals-panel",
            permission="sales.view_deal",
            order=10,
            template=CUSTOMER_DEALS_PANEL,
            context=customer_deals_context,  # at most 20 deals, by the customer index
        ),
    )
    register_panel(
        CUSTOMER_PAGE,
        Panel(
            title=_("Orders"),
            url_name="sales:customer-orders-panel",
            permission="sales.view_order",
            order=20,
            template=CUSTOMER_ORDERS_PANEL,
            context=customer_orders_context,
            deferred=True,  # counts and sums every order of the customer
        ),
    )
    register_panel(
        HOME_PAGE,
        Panel(
            title=_("My pipeline"),
            url_name="sales:home-pipeline-panel",
            permission="sales.view_deal",
            order=30,
            template=HOME_PIPELINE_PANEL,
            context=home_pipeline_context,  # one grouped query and a count
        ),
    )
    register_panel(
        HOME_PAGE,
        Panel(
            title=_("Team"),
            url_name="sales:home-team-panel",
            permission="sales.view_any_deal",  # managers: the whole team's deals
            order=0,
            wide=True,
            template=TEAM_PANEL,
            context=team_context,  # a fixed number of grouped queries (sales.team)
        ),
    )
