"""Panels that apps add to pages they do not own.

`customers` must not import sales, service or analytics, and `crm` imports no
app, so an app registers its panels here in AppConfig.ready(); the page (the
customer's 360° page, the home page) loads each panel's fragment from the
app's own URL with htmx.
"""

from dataclasses import dataclass

CUSTOMER_PAGE = "customer"  # panel URLs take the customer's pk
HOME_PAGE = "home"  # panel URLs take no argument


@dataclass(frozen=True)
class Panel:
    title: str
    url_name: str
    permission: str  # the panel is shown only to users with this permission
    order: int = 100


_panels: dict[str, list[Panel]] = {CUSTOMER_PAGE: [], HOME_PAGE: []}


def register_panel(page: str, panel: Panel) -> None:
    panels = _panels[page]
    if panel not in panels:
        panels.append(panel)
        panels.sort(key=lambda p: p.order)


def panels_for(page: str, user) -> list[Panel]:
    return [panel for panel in _panels[page] if user.has_perm(panel.permission)]
