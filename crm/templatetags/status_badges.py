"""`{{ deal|status_badge }}`: the badge classes of an object's status, defined once per model.

A model lists its colours in `STATUS_BADGES` (status value -> Bootstrap classes) next to
its Status choices; a status it does not list is shown in the neutral style.
"""

from django import template

register = template.Library()

NEUTRAL = "text-bg-light border"


@register.filter
def status_badge(obj: object) -> str:
    badges: dict[str, str] = getattr(obj, "STATUS_BADGES", {})
    return badges.get(getattr(obj, "status", ""), NEUTRAL)
