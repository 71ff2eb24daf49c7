"""System checks of the CRM's own settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Warning, register

from crm.lib.public_links import base_url_is_local


@register(deploy=True)
def base_url_reachable(app_configs, **kwargs):
    if not base_url_is_local():
        return []
    return [
        Warning(
            f"CRM_BASE_URL is {settings.CRM_BASE_URL}, this machine's own address: the links in "
            "emails (follow a ticket, rate an answer, unsubscribe) would not reach customers.",
            hint="Set CRM_BASE_URL to the address customers use, e.g. https://crm.example.com.",
            id="crm.W001",
        )
    ]
