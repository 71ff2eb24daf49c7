"""Sales panels on pages other apps own (the customer's 360° page, the home page)."""

from django.utils.translation import gettext_lazy as _  # noqa: F401 - used by the panels below

from crm.lib.panels import CUSTOMER_PAGE, HOME_PAGE, Panel, register_panel  # noqa: F401


def register_sales_panels() -> None:
    pass
