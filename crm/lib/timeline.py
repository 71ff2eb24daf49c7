"""The customer's timeline: every app's events on the 360° page, newest first.

`customers` must not import sales, service or marketing, and `crm` imports no app, so
each app registers its event sources here in AppConfig.ready(), as with panels.

A source is one kind of event (one filter chip) read by one query on one table (or a
join to it): `WHERE customer = … AND (time, id) < cursor ORDER BY time DESC, id DESC
LIMIT n`, which an index on (customer, time) answers however long the customer's
history is. A page asks every source the user may see for n + 1 rows, merges them by
(time, kind, id) and keeps n: the last one is the cursor of the next ("Older") page.
A source applies its own access rules (the viewer's visible_to queryset), so the
timeline never shows an object its viewer cannot open.

Kinds read from one table form a group (register_group): deals moved, won and lost are
all stage changes; a quote is sent and later accepted. Each kind keeps its chip, label,
icon and permission, but the page asks the group once, with the kinds the user chose and
may see, and the group answers with one SELECT (grouped_older_than): each kind compared
with the cursor as its own source would be, the database orders by (time, kind, id) and
cuts at n + 1, so a group's answer is exactly its kinds' newest n + 1 events older than
the cursor, ties at the cursor's time included. The ORM builds and compiles one query
instead of one per kind: that, not the database, is what the 360° page spends its CPU on
(issue 18). A group whose kinds are dated by different columns (a quote's sent_at and
accepted_at) orders by an expression, not an index: the database sorts that customer's
rows of the table, a cost that grows with the customer's history.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, DateTimeField, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.db.models.lookups import Exact
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
# The same for a group, with the kinds asked for (a non-empty subset of the group's):
# at most that many events of those kinds, in (time, kind, id) order, older than the cursor.
GroupFetch = Callable[[Any, Any, Cursor | None, int, frozenset[str]], list[TimelineEvent]]


@dataclass(frozen=True)
class TimelineSource:
    kind: str  # a short slug, unique: the filter's value and the entry's class
    label: str | Promise  # the filter chip: "Deals won"
    icon: str  # one symbol shown before the entry
    permission: str  # users without it do not get this kind
    fetch: Fetch | None = None  # None for a kind of a group: the group's fetch reads it
    order: int = 100  # of the filter chips
    group: str = ""  # set by register_group


_sources: dict[str, TimelineSource] = {}
_groups: dict[str, GroupFetch] = {}


def register_source(source: TimelineSource) -> None:
    if source.fetch is None and source.group not in _groups:
        raise ValueError(f"timeline source {source.kind!r} has no fetch and no group")
    _sources[source.kind] = source


def register_group(name: str, fetch: GroupFetch, sources: Iterable[TimelineSource]) -> None:
    """Kinds of one table, asked for together: `fetch` gets the chosen ones (each still
    has its own chip and permission) and answers with one query."""
    _groups[name] = fetch
    for source in sources:
        register_source(replace(source, group=name, fetch=None))


def sources_for(user: Any) -> list[TimelineSource]:
    """The kinds of event this user may see, in the filter's order."""
    allowed = [s for s in _sources.values() if user.has_perm(s.permission)]
    return sorted(allowed, key=lambda source: (source.order, source.kind))


def _older(time_field: str, kind: str, cursor: Cursor | None) -> Q:
    """Rows of `kind` whose event is older than `cursor` in (time, kind, id) order.

    The kind is a constant here, so the comparison with the cursor's kind is made in
    Python and the database sees only `time <= t` (the index's range) and an id tie-break.
    """
    if cursor is None:
        return Q()
    before = Q(**{f"{time_field}__lt": cursor.when})
    if kind > cursor.kind:  # after the cursor's kind at the same time: only older times
        return before
    at = Q(**{f"{time_field}__lte": cursor.when})
    if kind == cursor.kind:
        return at & (before | Q(pk__lt=cursor.pk))
    return at


def older_than(
    queryset: QuerySet, time_field: str, kind: str, cursor: Cursor | None, limit: int
) -> QuerySet:
    """The source's page: rows with a time, older than `cursor` in (time, kind, id) order."""
    rows = queryset.filter(_older(time_field, kind, cursor), **{f"{time_field}__isnull": False})
    return rows.order_by(f"-{time_field}", "-pk")[:limit]


@dataclass(frozen=True)
class GroupMember:
    """One kind of a group: its rows (`rows`, a condition on the group's queryset) and the
    column that dates them. Members on the same column must not share a row."""

    kind: str
    time_field: str
    rows: Q = field(default_factory=Q)


def grouped_older_than(
    queryset: QuerySet, members: Sequence[GroupMember], cursor: Cursor | None, limit: int
) -> list[tuple[str, datetime, Any]]:
    """The group's page in one query: (kind, time, row) of the `limit` newest events of
    the members' kinds older than `cursor`, in (time, kind, id) order, newest first.

    Members on one time column (deals moved, won, lost): `WHERE (kind 1's rows AND older
    than the cursor as kind 1) OR (kind 2's …) ORDER BY time, kind, id LIMIT n`, the kind
    a CASE over the members' conditions (the rank of the kind in the kinds' order as
    strings, as the cursor compares them).

    Members on different columns (a quote sent, then accepted: a row may be an event of
    each kind): each member's time is a CASE, set when the row is an event of that kind
    older than the cursor; the rows are those with any, ordered by their newest such
    event's (time, kind, id) and cut at n. Those n rows hold the n newest events: a row
    ranked below them has n rows above it, each with an event newer than any of its own.
    The events of the n rows are then sorted and cut at n in Python; none is missing.
    (One SELECT costs far less CPU to build than a UNION of one per column, which Django
    compiles like separate queries and then matches its ORDER BY against them.) Its ORDER
    BY is an expression: the database sorts the customer's rows of that table.
    """
    kinds = sorted(member.kind for member in members)
    rank = {kind: n for n, kind in enumerate(kinds)}
    columns = {member.time_field for member in members}
    if len(columns) == 1:
        [column] = columns
        wanted = Q()
        for member in members:
            wanted |= member.rows & _older(column, member.kind, cursor)
        if len(members) == 1:
            kind_rank: Any = Value(rank[members[0].kind], output_field=IntegerField())
        else:
            whens = [When(member.rows, then=Value(rank[member.kind])) for member in members]
            kind_rank = Case(*whens, output_field=IntegerField())
        rows = queryset.filter(wanted, **{f"{column}__isnull": False})
        rows = rows.annotate(timeline_rank=kind_rank)
        page = rows.order_by(f"-{column}", "-timeline_rank", "-pk")[:limit]
        return [(kinds[row.timeline_rank], getattr(row, column), row) for row in page]

    ordered = sorted(members, key=lambda member: rank[member.kind])
    times: dict[str, Any] = {}
    wanted = Q()
    for member in ordered:
        event = (
            member.rows
            & Q(**{f"{member.time_field}__isnull": False})
            & _older(member.time_field, member.kind, cursor)
        )
        wanted |= event
        if cursor is None and not member.rows:  # the first page: NULL is no event
            times[f"timeline_{rank[member.kind]}"] = F(member.time_field)
        else:
            times[f"timeline_{rank[member.kind]}"] = Case(
                When(event, then=F(member.time_field)), output_field=DateTimeField()
            )
    names = list(times)
    # Greatest is NULL on SQLite when any argument is: each argument a Coalesce starting
    # at another member's time, so none is NULL on a row that has an event.
    newest = Greatest(*(Coalesce(*names[n:], *names[:n]) for n in range(len(names))))
    newest_rank = Case(
        *(When(Exact(F(name), F("timeline_newest")), then=Value(n)) for n, name in
          reversed(list(enumerate(names)))),
        output_field=IntegerField(),
    )  # fmt: skip
    rows = queryset.filter(wanted).annotate(**times).alias(timeline_newest=newest)
    rows = rows.annotate(timeline_newest_rank=newest_rank)
    page = rows.order_by("-timeline_newest", "-timeline_newest_rank", "-pk")[:limit]
    events = [
        (kinds[n], getattr(row, name), row)
        for row in page
        for n, name in enumerate(names)
        if getattr(row, name) is not None
    ]
    events.sort(key=lambda event: (event[1], event[0], event[2].pk), reverse=True)
    return events[:limit]


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
    than `cursor`: one query per source, and one per group of sources."""
    chosen = set(kinds)
    wanted = [s for s in sources_for(user) if not chosen or s.kind in chosen]
    icons = {source.kind: source.icon for source in wanted}
    fetched: list[TimelineEvent] = []
    asked: set[str] = set()
    for source in wanted:
        if source.fetch is not None:
            fetched += source.fetch(user, customer, cursor, limit + 1)
        elif source.group not in asked:
            asked.add(source.group)
            group_kinds = frozenset(s.kind for s in wanted if s.group == source.group)
            fetched += _groups[source.group](user, customer, cursor, limit + 1, group_kinds)
    events = [replace(event, icon=icons[event.kind]) for event in fetched]
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
