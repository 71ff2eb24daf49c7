from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """The top floor: what needs every app (the full export and restore). No models yet."""

    name = "integrations"
    verbose_name = _("Integrations")
