"""The navigation's count of the user's unfiled sales email (one COUNT per page)."""

from django import template

from integrations.unfiled import unfiled_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unfiled_email_count(context: template.Context) -> int:
    request = context.get("request")
    return unfiled_count(request.user) if request is not None else 0
