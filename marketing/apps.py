from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        from crm.lib.panels import CUSTOMER_PAGE, Panel, register_panel
        from crm.lib.personal_data import DataSection, register_data_section
        from marketing import receivers  # noqa: F401 - connects the signal receivers
        from marketing.erasure import marketing_data_of
        from marketing.exports import register_mail_export
        from marketing.readiness import register_readiness_checks
        from marketing.timeline import register_marketing_timeline
        from marketing.views.loyalty import CUSTOMER_LOYALTY_PANEL, customer_loyalty_context

        register_panel(
            CUSTOMER_PAGE,
            Panel(
                title=_("Loyalty"),
                url_name="marketing:customer-loyalty-panel",
                permission="marketing.view_loyaltyentry",
                order=50,
                template=CUSTOMER_LOYALTY_PANEL,
                context=customer_loyalty_context,  # the account, the tiers, five entries
            ),
        )
        register_mail_export()
        register_marketing_timeline()
        register_readiness_checks()
        register_data_section(DataSection("marketing", collect=marketing_data_of))
