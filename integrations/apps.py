from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """The top floor: what needs every app (the full export and restore) and webhooks."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from crm.lib.personal_data import DataSection, register_data_section
        from integrations import receivers  # noqa: F401  (webhook fan-out, erasure)
        from integrations.mail.erasure import inbound_emails_data_of

        register_data_section(DataSection("integrations", collect=inbound_emails_data_of))
