"""The customer list's column chooser: which columns a user sees.

Columns are the list's own (keys below) and those other apps add (crm.lib.list_extensions),
keyed "<extension name>:<index>". The choice is kept per user in the SavedView row named
SavedView.COLUMNS, which the list reads with the user's saved views: choosing columns adds
no query, and hiding one only leaves it out of the page (the list's query is the same).
The default set fits a 1,440 px screen with the sidebar (LTV and Updated included); Phone,
Industry and P(alive) are a click away.
"""

from collections.abc import Iterable
from urllib.parse import parse_qs, urlencode

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext_lazy as _

from crm.lib.list_extensions import CUSTOMER_LIST, Column, extensions_for
from customers.models import SavedView

OWN_COLUMNS = [
    ("stage", _("Stage")),
    ("email", _("Email")),
    ("phone", _("Phone")),
    ("region", _("Region")),
    ("industry", _("Industry")),
    ("owner", _("Owner")),
    ("updated", _("Updated")),
]
HIDDEN_BY_DEFAULT = {"phone", "industry", "analytics-alive:0"}


def extension_columns(user: User | AnonymousUser) -> list[tuple[str, Column]]:
    """The other apps' columns the user may see, with their keys, in the list's order."""
    return [
        (f"{extension.name}:{index}", column)
        for extension in extensions_for(CUSTOMER_LIST, user)
        for index, column in enumerate(extension.columns)
    ]


def available_columns(user: User | AnonymousUser) -> list[tuple[str, str]]:
    """(key, label) of every column the user may choose, in the list's order."""
    own = [(key, str(label)) for key, label in OWN_COLUMNS]
    extra = [(key, str(column.label)) for key, column in extension_columns(user)]
    return own[:-1] + extra + own[-1:]  # Updated comes last on the page


def split_saved_views(
    user: User | AnonymousUser, views: Iterable[SavedView]
) -> tuple[list[SavedView], set[str]]:
    """The user's saved views (read once) as the sidebar's filters and the chosen columns."""
    filters, stored = [], None
    for view in views:
        if view.name == SavedView.COLUMNS:
            stored = parse_qs(view.query).get("columns", [""])[0].split(",")
        else:
            filters.append(view)
    keys = {key for key, _label in available_columns(user)}
    return filters, (keys - HIDDEN_BY_DEFAULT if stored is None else keys & set(stored))


def list_columns_save(*, user: User, columns: list[str]) -> SavedView:
    view, _created = SavedView.objects.update_or_create(
        user=user,
        name=SavedView.COLUMNS,
        defaults={"query": urlencode({"columns": ",".join(sorted(set(columns)))})},
    )
    return view


def list_columns_reset(*, user: User) -> None:
    SavedView.objects.filter(user=user, name=SavedView.COLUMNS).delete()
