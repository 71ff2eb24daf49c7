"""The customer list's column chooser: which columns a user sees (ListColumns).

Columns are the list's own (keys below) and those other apps add (crm.lib.list_extensions),
keyed "<extension name>:<index>". Hiding a column only leaves it out of the page: the list's
query is the same whichever columns are shown (its query count does not change). The
default set fits a 1,440 px screen with the sidebar (LTV and Updated included); Phone,
Industry and P(alive) are a click away.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext_lazy as _

from crm.lib.list_extensions import CUSTOMER_LIST, Column, extensions_for
from customers.models import ListColumns

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


def chosen_columns(user: User | AnonymousUser) -> set[str]:
    """The keys of the columns the user shows (one query; the default set when unset)."""
    keys = {key for key, _label in available_columns(user)}
    stored = None
    if isinstance(user, User):
        stored = ListColumns.objects.filter(user=user).values_list("columns", flat=True).first()
    if stored is None:
        return keys - HIDDEN_BY_DEFAULT
    return keys & {key for key in stored if isinstance(key, str)}


def list_columns_save(*, user: User, columns: list[str]) -> ListColumns:
    choice, _created = ListColumns.objects.update_or_create(
        user=user, defaults={"columns": sorted(set(columns))}
    )
    return choice


def list_columns_reset(*, user: User) -> None:
    ListColumns.objects.filter(user=user).delete()
