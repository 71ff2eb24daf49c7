"""Reads, with the access rules: who may see and change which customers."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, Interaction, SavedView, Tag, Task


def customers_visible_to(user) -> QuerySet[Customer]:
    """Every role that reads customers reads all of them (DESIGN.md, Roles)."""
    if not user.has_perm("customers.view_customer"):
        return Customer.objects.none()
    return Customer.objects.all()


def customers_editable_by(user) -> QuerySet[Customer]:
    if user.has_perm("customers.change_any_customer"):
        return Customer.objects.all()
    if user.has_perm("customers.change_customer"):
        return Customer.objects.filter(owner=user)
    return Customer.objects.none()


def can_edit_customer(user, customer: Customer) -> bool:
    if user.has_perm("customers.change_any_customer"):
        return True
    return user.has_perm("customers.change_customer") and customer.owner_id == user.pk


def can_edit_contact_details(user, customer: Customer) -> bool:
    """Service agents may correct how to reach any customer, not who owns them."""
    return can_edit_customer(user, customer) or user.has_perm(
        "customers.change_customer_contact_details"
    )


def can_work_customer(user, customer: Customer) -> bool:
    """May log interactions and add tasks on this customer."""
    if not user.has_perm("customers.add_interaction"):
        return False
    return user.has_perm("customers.work_any_customer") or can_edit_customer(user, customer)


def can_change_task(user, task: Task) -> bool:
    if not user.has_perm("customers.change_task"):
        return False
    return task.assignee_id == user.pk or user.has_perm("customers.change_any_customer")


def assignable_users(user) -> QuerySet:
    """Who this user may give a customer or a task to: managers anyone active, others themselves."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    if user.has_perm("customers.change_any_customer"):
        return users
    return users.filter(pk=user.pk)


def customer_owners() -> QuerySet:
    """Users that may own customers, for filters and bulk assignment."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions__codename="change_customer") | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def search_customers(queryset: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Match name, company, email or phone (phone also ignoring spaces and dashes)."""
    text = text.strip()
    if not text:
        return queryset
    condition = (
        Q(name__icontains=text)
        | Q(organization__icontains=text)
        | Q(email__icontains=text)
        | Q(phone__icontains=text)
    )
    return queryset.filter(condition)


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
    return Customer.objects.filter(condition).exclude(pk=exclude_pk).order_by("pk")[:5]


def tasks_for(user) -> QuerySet[Task]:
    """The user's own tasks, open first, overdue first within them."""
    return (
        Task.objects.filter(assignee=user)
        .select_related("customer")
        .order_by("done", "due_date", "id")
    )


def open_task_count(user) -> int:
    return Task.objects.filter(assignee=user, done=False).count()


def saved_views_for(user) -> QuerySet[SavedView]:
    return SavedView.objects.filter(user=user)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "interaction" or "task"
    when: datetime
    item: Interaction | Task


def customer_timeline(customer: Customer, *, limit: int = 50) -> list[TimelineEntry]:
    """The newest interactions and tasks of one customer, merged by time (two queries)."""
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
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]


def customer_history(customer: Customer, *, limit: int = 20) -> list[dict]:
    """Who changed which fields of the customer, newest first."""
    records = list(
        customer.history.select_related("history_user").order_by("-history_date")[: limit + 1]
    )
    tag_names = dict(Tag.objects.values_list("pk", "name"))
    changes = []
    for newer, older in zip(records, records[1:] + [None], strict=True):
        if len(changes) == limit:
            break
        fields = []
        if older is not None:
            delta = newer.diff_against(older)
            fields = [
                {
                    "field": _field_label(c.field),
                    "old": _readable(c.field, c.old, tag_names),
                    "new": _readable(c.field, c.new, tag_names),
                }
                for c in delta.changes
            ]
        changes.append(
            {
                "when": newer.history_date,
                "user": newer.history_user,
                "type": newer.get_history_type_display(),
                "changes": fields,
            }
        )
    return changes


def _field_label(name: str) -> str:
    try:
        return str(Customer._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # history may mention a field that was removed since
        return name


def _readable(field: str, value, tag_names: dict[int, str]) -> str:
    if field == "tags":  # m2m history holds through rows: {"customer": id, "tag": id}
        return ", ".join(sorted(tag_names.get(row["tag"], "?") for row in value or []))
    try:
        model_field = Customer._meta.get_field(field)
    except FieldDoesNotExist:
        return "" if value is None else str(value)
    if model_field.choices and value:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return "" if value is None else str(value)
