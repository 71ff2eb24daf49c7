"""The customer's timeline: every app's events on the 360° page, newest first.

`customers` must not import sales, service or marketing, and `crm` imports no app, so
each app registers its event sources here in AppConfig.ready(), as with panels.

A source is one kind of event read by one query on one table (or a join to it):
`WHERE customer = … AND (time, id) < cursor ORDER BY time DESC, id DESC LIMIT n`,
which an index on (customer, time) answers however long the customer's history is.
A page asks every source the user may see for n + 1 rows, merges them by
(time, kind, id) and keeps n: the last one is the cursor of the next ("Older") page.
A source applies its own access rules (the viewer's visible_to queryset), so the
timeline never shows an object its viewer cannot open.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.functional import Promise

from crm.lib.params import IdField

PAGE_SIZE = 25


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page ended: its last event's time, kind and id (the merge order's key)."""

    when: datetime
    kind: str
    pk: int

    def encode(self) -> str:
        return f"{self.when.isoformat()}~{self.kind}~{self.pk}"


@dataclass(frozen=True)
class TimelineEvent:
    """One line of the timeline, the same shape whichever app it comes from."""

    when: datetime
    kind: str
    pk: int
    text: str  # one line: what happened
    url: str = ""  # the object it happened to, when the viewer may open it
    who: str = ""
    detail: str = ""  # an optional second line (an interaction's summary)
    badge: str = ""
    badge_class: str = "text-bg-light"
    css: str = ""  # extra classes on the entry
    icon: str = ""  # set from the source by timeline_page
    files: Sequence[Any] = field(default=(), compare=False)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.when, self.kind, self.pk)


# (viewer, customer, cursor or None, how many) -> at most that many events of one kind,
# newest first, all older than the cursor.
Fetch = Callable[[Any, Any, Cursor | None, int], list[TimelineEvent]]


@dataclass(frozen=True)
class TimelineSource:
    kind: str  # a short slug, unique: the filter's value and the entry's class
    label: str | Promise  # the filter chip: "Deals won"
    icon: str  # one symbol shown before the entry
    permission: str  # users without it do not get this kind
    fetch: Fetch
    order: int = 100  # of the filter chips


_sources: dict[str, TimelineSource] = {}


def register_source(source: TimelineSource) -> None:
    _sources[source.kind] = source


def sources_for(user: Any) -> list[TimelineSource]:
    """The kinds of event this user may see, in the filter's order."""
    allowed = [s for s in _sources.values() if user.has_perm(s.permission)]
    return sorted(allowed, key=lambda source: (source.order, source.kind))


def older_than(
    queryset: QuerySet, time_field: str, kind: str, cursor: Cursor | None, limit: int
) -> QuerySet:
    """The source's page: rows with a time, older than `cursor` in (time, kind, id) order.

    The kind is the same for every row of a source, so the comparison with the cursor's
    kind is made here and the database sees only `time <= t` (the index's range) and an
    id tie-break.
    """
    rows = queryset.filter(**{f"{time_field}__isnull": False})
    if cursor is not None:
        at = {f"{time_field}__lte": cursor.when}
        before = Q(**{f"{time_field}__lt": cursor.when})
        if kind > cursor.kind:  # after the cursor's kind at the same time: only older times
            rows = rows.filter(before)
        elif kind == cursor.kind:
            rows = rows.filter(Q(**at) & (before | Q(pk__lt=cursor.pk)))
        else:
            rows = rows.filter(**at)
    return rows.order_by(f"-{time_field}", "-pk")[:limit]


@dataclass(frozen=True)
class TimelinePage:
    events: list[TimelineEvent]
    next_cursor: Cursor | None  # None: this is the oldest page


def timeline_page(
    user: Any,
    customer: Any,
    *,
    kinds: Iterable[str] = (),
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """The customer's events the user may see, of the chosen kinds (all when none), older
    than `cursor`: one query per source."""
    chosen = set(kinds)
    events: list[TimelineEvent] = []
    for source in sources_for(user):
        if not chosen or source.kind in chosen:
            fetched = source.fetch(user, customer, cursor, limit + 1)
            events += [replace(event, icon=source.icon) for event in fetched]
    events.sort(key=lambda event: event.cursor, reverse=True)
    page = events[:limit]
    more = len(events) > limit
    return TimelinePage(page, page[-1].cursor if more and page else None)


def parse_cursor(raw: str, kinds: Iterable[str]) -> Cursor:
    """A cursor from its text; ValidationError for anything the timeline did not write."""
    parts = raw.split("~")
    if len(parts) != 3 or parts[1] not in set(kinds):
        raise ValidationError("bad cursor", code="invalid")
    try:
        when = datetime.fromisoformat(parts[0])
    except ValueError as error:
        raise ValidationError("bad cursor", code="invalid") from error
    if when.tzinfo is None:
        raise ValidationError("bad cursor", code="invalid")
    try:  # the database compares in UTC: "9999-12-31T23:59-14:00" has no UTC time
        when = when.astimezone(UTC)
    except OverflowError as error:
        raise ValidationError("bad cursor", code="invalid") from error
    pk = IdField().clean(parts[2])
    if pk is None:
        raise ValidationError("bad cursor", code="invalid")
    return Cursor(when, parts[1], pk)


class TimelineFilterForm(forms.Form):
    """The timeline's query string: ?kind=…&kind=…&before=<cursor>. Invalid parts are
    dropped (an unknown kind, a cursor the timeline did not write), never a 500."""

    kind = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "btn-check"})
    )
    before = forms.CharField(required=False, max_length=100)

    def __init__(self, *args: Any, sources: list[TimelineSource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sources = sources
        self.fields["kind"].choices = [(s.kind, s.label) for s in sources]  # type: ignore[attr-defined]

    def clean_before(self) -> Cursor | None:
        raw = self.cleaned_data.get("before") or ""
        return parse_cursor(raw, (s.kind for s in self.sources)) if raw else None

    def choice(self) -> tuple[list[str], Cursor | None]:
        """The kinds and cursor asked for, each None/empty when it did not parse."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return list(data.get("kind") or []), data.get("before")
