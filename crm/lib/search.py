"""The global search box: each app contributes what it can find (customers, contacts, deals,
tickets) through this registry, as with panels, so `customers` (which owns the box) imports
no other app. A source searches only what the user may see, through its app's selectors.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db.models import QuerySet
from django.utils.functional import Promise

User = AuthUser | AnonymousUser


@dataclass(frozen=True)
class SearchHit:
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class SearchSource:
    key: str
    label: str | Promise
    permission: str  # the source is searched only for users with this permission
    # (user, text, limit) -> at most `limit` hits the user may see, best first
    search: Callable[[User, str, int], list[SearchHit]]
    order: int = 100


_sources: dict[str, SearchSource] = {}


def register_search_source(source: SearchSource) -> None:
    _sources[source.key] = source


def search_sources_for(user: User) -> list[SearchSource]:
    return sorted(
        (source for source in _sources.values() if user.has_perm(source.permission)),
        key=lambda source: source.order,
    )


def search_words(text: str) -> list[str]:
    """The words of a search, so "Watts Hazel" finds "Hazel Watts"; at most eight."""
    return [word for word in text.split() if word][:8]


def matching_any(*branches: QuerySet) -> QuerySet:
    """The ids of the rows that any branch finds: `pk IN (… UNION …)`, one branch per
    indexed column or join. A single OR across a join ("the title or the customer's name")
    can use no index, so it read every row newest first until it had enough hits; each
    branch alone is answered by its own trigram index (and its join by a foreign-key index).
    Each branch must select its rows' ids (`.values("pk")`)."""
    first, *others = (branch.order_by() for branch in branches)
    return first.union(*others) if others else first
