from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """The top floor: what needs every app (the full export and restore) and webhooks."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from integrations import receivers  # noqa: F401  (the webhook fan-out)
