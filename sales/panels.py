"""Sales panels on pages other apps own (the customer's 360° page, the home page)."""

from django.utils.translation import gettext_lazy as _  # noqa: F401 - used by the panels below

from crm.lib.panels import CUSTOMER_PAGE, HOME_PAGE, Panel, register_panel  # noqa: F401


def register_sales_panels() -> None:
    register_panel(
        CUSTOMER_PAGE,
        Panel(
            title=_("Deals"),
            url_name="sales:customer-deals-panel",
            permission="sales.view_deal",
            order=10,
        ),
    )
    register_panel(
        CUSTOMER_PAGE,
        Panel(
            title=_("Orders"),
            url_name="sales:customer-orders-panel",
            permission="sales.view_order",
            order=20,
        ),
    )
    register_panel(
        HOME_PAGE,
        Panel(
            title=_("My pipeline"),
            url_name="sales:home-pipeline-panel",
            permission="sales.view_deal",
            order=30,
        ),
    )
