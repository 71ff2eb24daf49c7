"""Reads, with the access rules: who may see and change which customers."""

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Field, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat, Upper
from django.db.models.lookups import IContains
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.attachments import with_attachment_files
from crm.lib.search import search_words
from customers.models import Customer, CustomerMerge, Interaction, SavedView, Tag, Task


def customers_visible_to(user: User | AnonymousUser) -> QuerySet[Customer]:
    """Every role that reads customers reads all of them (DESIGN.md, Roles)."""
    if not user.has_perm("customers.view_customer"):
        return Customer.objects.none()
    return Customer.objects.all()


def customers_editable_by(user: User | AnonymousUser) -> QuerySet[Customer]:
    if isinstance(user, AnonymousUser):
        return Customer.objects.none()
    if user.has_perm("customers.change_any_customer"):
        return Customer.objects.all()
    if user.has_perm("customers.change_customer"):
        return Customer.objects.filter(owner=user)
    return Customer.objects.none()


def can_edit_customer(user: User | AnonymousUser, customer: Customer) -> bool:
    if user.has_perm("customers.change_any_customer"):
        return True
    return user.has_perm("customers.change_customer") and customer.owner_id == user.pk


def can_edit_contact_details(user: User | AnonymousUser, customer: Customer) -> bool:
    """Service agents may correct how to reach any customer, not who owns them."""
    return can_edit_customer(user, customer) or user.has_perm(
        "customers.change_customer_contact_details"
    )


def can_work_customer(user: User | AnonymousUser, customer: Customer) -> bool:
    """May log interactions and add tasks on this customer."""
    if not user.has_perm("customers.add_interaction"):
        return False
    return user.has_perm("customers.work_any_customer") or can_edit_customer(user, customer)


def customers_workable_by(user: User | AnonymousUser) -> QuerySet[Customer]:
    """The customers can_work_customer allows: where this user may log interactions."""
    if not user.has_perm("customers.add_interaction"):
        return Customer.objects.none()
    if user.has_perm("customers.work_any_customer"):
        return Customer.objects.all()
    return customers_editable_by(user)


def can_change_task(user: User | AnonymousUser, task: Task) -> bool:
    if not user.has_perm("customers.change_task"):
        return False
    return task.assignee_id == user.pk or user.has_perm("customers.change_any_customer")


def assignable_users(user: User | AnonymousUser) -> QuerySet[User]:
    """Who this user may give a customer or a task to: managers anyone active, others themselves."""
    if isinstance(user, AnonymousUser):
        return get_user_model().objects.none()
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    if user.has_perm("customers.change_any_customer"):
        return users
    return users.filter(pk=user.pk)


def customer_owners() -> QuerySet[User]:
    """Users that may own customers, for filters and bulk assignment."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions__codename="change_customer") | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


TEXT_SEARCH_FIELDS = ("name", "organization", "email", "phone")  # as in migrations 0003, 0006
SEARCH_FIELDS = (*TEXT_SEARCH_FIELDS, "phone_digits")  # digits only: no case, plain contains
_PHONE_LIKE = re.compile(r"^[0-9 +()./-]+$")


def search_customers(queryset: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Match name, company, email or phone; a phone number matches however it is written.

    A term made of digits and phone separators ("138-0013 8000") is searched by its
    digits, which also match the phone stored without separators (phone_digits).
    """
    term = text.strip()
    if _PHONE_LIKE.match(term) and sum(c.isdigit() for c in term) >= 3:
        term = "".join(c for c in term if c.isdigit())
    if not term:
        return queryset
    # Several words match in any order and any column: "Watts Hazel" finds Hazel Watts,
    # "Hazel acme" finds Hazel at Acme Ltd. One word is the same search as before.
    words = search_words(term)
    condition = Q()
    for word in words:
        condition &= _matches_term(word)
    matches = queryset.model._default_manager.using(queryset.db).filter(condition)
    if connections[queryset.db].vendor == "postgresql":
        matches = _steer_search_plan(matches, max(words, key=len))
    return queryset.filter(pk__in=matches.values("pk"))


def _matches_term(term: str) -> Q:
    condition = Q(phone_digits__contains=term)
    for name in TEXT_SEARCH_FIELDS:
        condition |= Q(**{f"{name}__icontains": term})
    return condition


def _steer_search_plan(matches: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Conditions implied by the search (the same rows) that lead PostgreSQL to its indexes.

    Short Chinese terms get the index of migration 0006. And PostgreSQL takes every search
    to match at least 0.01% of the rows per column, spread evenly over the name order, so
    for a page (LIMIT 25, LIMIT 1 for a single match) it walked the name index and tested
    each customer until enough matched, instead of asking the trigram indexes and sorting
    the matches. A rare term, or a company-name fragment whose matches sort together,
    walked 50,000-100,000 customers (120-210 ms against 3-5 ms). The same text searched in
    all four columns joined, which PostgreSQL has no statistics for, makes it expect few
    matches, and sort them. The price: a term in a third of all customers ("gmail.com")
    takes ~150 ms to sort rather than ~5 ms to walk; the list's count of such a term costs
    as much anyway.
    """
    if _has_search_gram_index(text):
        matches = matches.filter(_ContainsSearchGram(text))
    elif len(text) < 3:  # no index serves it; the walk is right for such a common term
        return matches
    parts = [part for name in SEARCH_FIELDS for part in (F(name), Value("\n"))][:-1]
    joined = Concat(*parts, output_field=TextField())
    return matches.filter(IContains(joined, text))


def _has_search_gram_index(text: str) -> bool:
    """Terms too short for the trigram indexes, made of Chinese (Japanese, Korean...) letters.

    Such letters have no case, so UPPER() leaves them as they are, and every one- or
    two-letter piece of them is in the index of migration 0006.
    """
    return len(text) <= 2 and all(unicodedata.category(char) == "Lo" for char in text)


class _ContainsSearchGram(Func):
    """customer_search_grams(UPPER(name), ...) @> ARRAY[UPPER(text)], the indexed expression."""

    output_field = BooleanField()

    def __init__(self, text: str):
        super().__init__(*(Upper(name) for name in TEXT_SEARCH_FIELDS), Upper(Value(text)))

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[str | int, ...]]:
        compiled = [compiler.compile(e) for e in self.get_source_expressions()]
        fields = ", ".join(sql for sql, _params in compiled[:-1])
        term = compiled[-1][0]
        params = [param for _sql, params in compiled for param in params]
        return f"customer_search_grams({fields}) @> ARRAY[{term}]::text[]", tuple(params)


def possible_duplicates(
    *, email: str, phone: str, exclude_pk: int | None = None
) -> QuerySet[Customer]:
    condition = Q()
    if email:
        condition |= Q(email__iexact=email)
    if phone:
        condition |= Q(phone=phone)
    if not condition:
        return Customer.objects.none()
    matches = Customer.objects.filter(condition)
    if exclude_pk is not None:
        matches = matches.exclude(pk=exclude_pk)
    return matches.order_by("pk")[:5]


def tasks_for(user: User | AnonymousUser) -> QuerySet[Task]:
    """The user's own tasks, open first, overdue first within them."""
    if isinstance(user, AnonymousUser):
        return Task.objects.none()
    return (
        Task.objects.filter(assignee=user)
        .select_related("customer")
        .order_by("done", "due_date", "id")
    )


def open_task_count(user: User | AnonymousUser) -> int:
    if isinstance(user, AnonymousUser):
        return 0
    return Task.objects.filter(assignee=user, done=False).count()


def saved_views_for(user: User | AnonymousUser) -> QuerySet[SavedView]:
    if isinstance(user, AnonymousUser):
        return SavedView.objects.none()
    return SavedView.objects.filter(user=user)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "interaction", "task" or "merge"
    when: datetime
    item: Interaction | Task | CustomerMerge


def customer_timeline(customer: Customer, *, limit: int = 50) -> list[TimelineEntry]:
    """The newest interactions, tasks and merges of one customer, by time (three queries)."""
    interactions = (
        Interaction.objects.filter(customer=customer)
        .select_related("logged_by", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
    tasks = (
        Task.objects.filter(customer=customer)
        .select_related("assignee")
        .order_by("-due_date", "-id")[:limit]
    )
    tz = timezone.get_current_timezone()
    entries = [TimelineEntry("interaction", i.occurred_at, i) for i in interactions]
    for task in tasks:
        when = datetime.combine(task.due_date, datetime.min.time(), tzinfo=tz)
        entries.append(TimelineEntry("task", when, task))
    merges = CustomerMerge.objects.filter(customer=customer).select_related("merged_by")[:limit]
    entries.extend(TimelineEntry("merge", merge.merged_at, merge) for merge in merges)
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]


def timeline_with_files(
    user: User | AnonymousUser, customer: Customer, entries: list[TimelineEntry]
) -> list[TimelineEntry]:
    """The timeline's interactions carry the files the user may see (one query)."""
    interactions = [entry.item for entry in entries if isinstance(entry.item, Interaction)]
    for interaction in interactions:
        interaction.customer = customer  # the access rule reads it: no query per row
    with_attachment_files(user, interactions)
    return entries


def customer_history(customer: Customer, *, limit: int = 20) -> list[dict]:
    """Who changed which fields of the customer, newest first (three queries at most)."""
    records = list(
        customer.history.select_related("history_user").order_by("-history_date")[: limit + 1]
    )
    if not records:  # rows loaded in bulk (seeding, COPY) have no history
        return []
    tag_names = dict(Tag.objects.values_list("pk", "name"))
    # The owner is stored as an id: shown by name ("owner: rep → rep2"). Read only when an
    # owner changed among these entries, so most histories cost no query for it.
    owner_ids = {record.owner_id for record in records} - {None}
    changed_owner = len({record.owner_id for record in records}) > 1
    users = get_user_model().objects.filter(pk__in=owner_ids) if changed_owner else []
    names = {"owner": {user.pk: user.get_username() for user in users}}
    names["tags"] = tag_names
    tag_rows = _history_tag_rows(records)
    changes: list[dict] = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        if len(changes) == limit:
            break
        fields = []
        if older is not None:
            # diff_against() would run two queries per entry for the tags; compare the
            # tag rows read for all entries at once instead (the same rows, in the same order).
            delta = newer.diff_against(older, excluded_fields=["tags"])
            changed = [(c.field, c.old, c.new) for c in delta.changes]
            if tag_rows[older.pk] != tag_rows[newer.pk]:
                changed.append(("tags", tag_rows[older.pk], tag_rows[newer.pk]))
            changed.sort(key=lambda change: change[0])
            fields = [
                {
                    "field": _field_label(field),
                    "old": _readable(field, old, names),
                    "new": _readable(field, new, names),
                }
                for field, old, new in changed
            ]
        changes.append(
            {
                "when": newer.history_date,
                "user": newer.history_user,
                "type": _HISTORY_TYPES.get(newer.history_type, newer.history_type),
                "changes": fields,
            }
        )
    return changes


# simple-history ships no zh_Hant catalogue; the project's own one translates these.
_HISTORY_TYPES = {
    "+": pgettext_lazy("change history", "Created"),
    "~": pgettext_lazy("change history", "Changed"),
    "-": pgettext_lazy("change history", "Deleted"),
}


def _history_tag_rows(records) -> dict[int, list[dict]]:
    """Each history record's tag rows as diff_against() reads them, ordered by tag."""
    through = Customer.history.model.tags.model  # simple-history's HistoricalCustomer_tags
    rows = defaultdict(list)
    for history_id, customer_id, tag_id in (
        through.objects.filter(history__in=[r.pk for r in records])
        .order_by("tag", "m2m_history_id")
        .values_list("history_id", "customer", "tag")
    ):
        rows[history_id].append({"customer": customer_id, "tag": tag_id})
    return rows


def _field_label(name: str) -> str:
    try:
        field = Customer._meta.get_field(name)
    except FieldDoesNotExist:  # history may mention a field that was removed since
        return name
    return str(field.verbose_name) if isinstance(field, Field) else name


def _readable(field: str, value, names: dict[str, dict[int, str]]) -> str:
    """A history value as people read it: names for ids, labels for choices."""
    if field == "tags":  # m2m history holds through rows: {"customer": id, "tag": id}
        return ", ".join(sorted(names["tags"].get(row["tag"], "?") for row in value or []))
    if field in names and value is not None:
        return names[field].get(value, _("(deleted user)"))
    try:
        model_field = Customer._meta.get_field(field)
    except FieldDoesNotExist:
        return "" if value is None else str(value)
    if isinstance(model_field, Field) and model_field.choices and value:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return "" if value is None else str(value)


def may_see_customer_money(user: User | AnonymousUser, customer: Customer) -> bool:
    """Revenue and lifetime value follow the value report permission (managers, marketers);
    a rep sees them only for a customer they own, whose orders (and so whose revenue) the
    orders panel shows them anyway. One rule for the 360° page, the loyalty panel and the
    ticket page (service and analytics both read customers)."""
    if user.has_perm("analytics.view_value_report"):
        return True
    return user.is_authenticated and customer.owner_id == user.pk
