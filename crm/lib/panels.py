"""Panels that apps add to pages they do not own.

`customers` must not import sales, service or analytics, and `crm` imports no
app, so an app registers its panels here in AppConfig.ready().

A home-page panel is loaded from the app's own URL with htmx. A customer-page panel
also says how to render itself (`template` and `context`), so the 360° page does not
pay a request per panel, each looking up the session, the user, the user's
permissions and the customer again:
- a panel renders inline, inside the page's own request, from the customer the page
  has already read;
- a `deferred` panel (one that adds up the customer's whole history, which the first
  paint should not wait for) is rendered after the page, together with every other
  deferred panel, by one request that looks the user and the customer up once.
Each panel's own URL stays: a panel that swaps itself after a change (loyalty) and
direct links use it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.safestring import SafeString

CUSTOMER_PAGE = "customer"  # panel URLs take the customer's pk
HOME_PAGE = "home"  # panel URLs take no argument

# (request, the page's object) -> the panel template's context
PanelContext = Callable[[HttpRequest, Any], dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    title: str | Promise
    url_name: str
    permission: str  # the panel is shown only to users with this permission
    order: int = 100
    template: str = ""  # with `context`: the page renders the panel without its URL
    context: PanelContext | None = None
    deferred: bool = False  # rendered after the page, in the request shared by the deferred
    wide: bool = False  # a home panel across the whole width (the manager's team view)

    @property
    def dom_id(self) -> str:
        """The id of the panel's body on the page: where a deferred panel is swapped in."""
        return "panel-" + self.url_name.replace(":", "-")

    @property
    def renders_in_page(self) -> bool:
        return bool(self.template) and self.context is not None


@dataclass(frozen=True)
class RenderedPanel:
    panel: Panel
    html: SafeString | None  # None: loaded later (deferred, or from the panel's URL)


_panels: dict[str, list[Panel]] = {CUSTOMER_PAGE: [], HOME_PAGE: []}


def register_panel(page: str, panel: Panel) -> None:
    panels = _panels[page]
    if panel not in panels:
        panels.append(panel)
        panels.sort(key=lambda p: p.order)


def panels_for(page: str, user: Any) -> list[Panel]:
    return [panel for panel in _panels[page] if user.has_perm(panel.permission)]


def render_panel(panel: Panel, request: HttpRequest, obj: Any) -> SafeString:
    """The panel's fragment for `obj`, which the caller has looked up with its access rules."""
    assert panel.context is not None
    return render_to_string(panel.template, panel.context(request, obj), request=request)


def panels_in_page(page: str, request: HttpRequest, obj: Any) -> list[RenderedPanel]:
    """The page's panels for the user, those that render inline already rendered."""
    return [
        RenderedPanel(
            panel,
            render_panel(panel, request, obj)
            if panel.renders_in_page and not panel.deferred
            else None,
        )
        for panel in panels_for(page, request.user)
    ]


def deferred_panels(page: str, request: HttpRequest, obj: Any) -> list[RenderedPanel]:
    """The deferred panels the user may see, rendered (for the page's follow-up request)."""
    return [
        RenderedPanel(panel, render_panel(panel, request, obj))
        for panel in panels_for(page, request.user)
        if panel.renders_in_page and panel.deferred
    ]
