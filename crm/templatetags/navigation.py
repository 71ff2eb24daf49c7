"""`{% navigation as main_nav %}`: what the main navigation bar shows for this request, the
key under which base.html keeps the bar rendered (`{% valuecache main_nav %}`).

The bar was a fifth of a small page's time (28 links reversed, 36 strings translated and
23 permission checks on every request), although it differs only by the user's
permissions, staff flag and section. The key holds the user's whole permission set, not
the few the bar checks, so a `perms.…` check added to the bar can never be served from
another role's bar; anything else about the user the bar shows must be added here or be a
live part. The user's name, the task count, the search text and the CSRF tokens are live
parts of the block. The links are reversed once: one script prefix and one instance of
each URL namespace are assumed, as everywhere in this project.
"""

from dataclasses import dataclass

from django import template
from django.template.context import Context
from django.urls import ResolverMatch

register = template.Library()


@dataclass(frozen=True)
class Navigation:
    section: str  # which link of the bar is active
    permissions: frozenset[str] | None  # None: a superuser, who has every permission
    is_staff: bool


def section_of(match: ResolverMatch | None) -> str:
    """The bar's section of the page `match` resolved to ("" for none); the first rule that
    matches wins (a customer's panel of another app is in Customers)."""
    if match is None:
        return ""
    url_name, app_name = match.url_name or "", match.app_name
    if url_name.startswith("customer"):
        return "customers"
    if url_name == "my-tasks":
        return "my-tasks"
    if url_name.startswith("unfiled-"):
        return "unfiled"
    if url_name.startswith("ticket-"):
        return "tickets"
    if app_name in {"sales", "knowledge", "marketing", "analytics"}:
        return app_name
    return ""


@register.simple_tag(takes_context=True)
def navigation(context: Context) -> Navigation:
    request = context["request"]
    user = request.user
    permissions = None if user.is_superuser else frozenset(user.get_all_permissions())
    return Navigation(section_of(request.resolver_match), permissions, user.is_staff)
