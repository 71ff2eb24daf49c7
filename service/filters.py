"""The agents' queue: tabs, filters, search and sort orders."""

import re

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import OrderBy
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import reject_nul
from crm.lib.params import MAX_ID, BoundedModelChoiceFilter, parse_id
from service.models import (
    Priority,
    Team,
    Ticket,
    next_due_expression,
    paused_rank_expression,
)

_NUMBER = re.compile(r"^\s*(?:T-?)?0*(\d{1,18})\s*$", re.IGNORECASE | re.ASCII)

# The queue's tabs (?view=): which tickets, and their default order.
MINE, UNASSIGNED, OPEN, ALL = "mine", "unassigned", "open", "all"
VIEWS = [
    (MINE, _("My open tickets")),
    (UNASSIGNED, _("Unassigned")),
    (OPEN, _("All open")),
    (ALL, _("All")),
]

BREACHED, AT_RISK, ON_TRACK = "breached", "at_risk", "on_track"
_PRIORITY_RANK = {value: rank for rank, value in enumerate(Priority.values)}


def ticket_agents() -> QuerySet:
    """Active users who may work tickets (assignees in filters, bulk and the ticket form)."""
    work = Permission.objects.filter(
        codename="work_ticket", content_type__app_label="service"
    ).values("pk")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__in=work) | Q(user_permissions__in=work) | Q(is_superuser=True)
        )
        .distinct()
        .order_by("username")
    )


def queue_view(request) -> str:
    wanted = request.GET.get("view", "")
    return wanted if wanted in dict(VIEWS) else MINE


# The queue's order. PostgreSQL reads a page of 200,000 tickets in order only from indexes on
# exactly these expressions (see the report of issue 4 for the two indexes); keep them as is.
def with_queue_order_fields(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The next due time, the paused rank and a priority rank (urgent highest), to sort on."""
    return queryset.annotate(
        next_due=next_due_expression(),
        paused_rank=paused_rank_expression(),
        priority_rank=Case(
            *[When(priority=value, then=Value(rank)) for value, rank in _PRIORITY_RANK.items()],
            default=Value(0),
            output_field=IntegerField(),
        ),
    )


SORTS: dict[str, list[str | OrderBy]] = {
    "due": ["paused_rank", F("next_due").asc(nulls_last=True), "id"],
    "-due": ["paused_rank", F("next_due").desc(nulls_last=True), "-id"],
    "priority": ["-priority_rank", F("next_due").asc(nulls_last=True), "id"],
    "-priority": ["priority_rank", F("next_due").asc(nulls_last=True), "id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
}


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=200,
        validators=[reject_nul],
        widget=forms.TextInput(attrs={"placeholder": _("Words or T-000123")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Ticket.Status.choices, empty_label=_("Any")
    )
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=Priority.choices, empty_label=_("Any")
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=Ticket.Category.choices, empty_label=_("Any")
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=Ticket.Channel.choices, empty_label=_("Any")
    )
    breach = django_filters.ChoiceFilter(
        label=_("SLA"),
        method="filter_breach",
        choices=[(BREACHED, _("Breached")), (AT_RISK, _("At risk")), (ON_TRACK, _("On track"))],
        empty_label=_("Any"),
    )
    team = BoundedModelChoiceFilter(
        label=_("Team queue"), queryset=Team.objects.all(), empty_label=_("Any")
    )
    assignee = BoundedModelChoiceFilter(
        label=_("Assignee"), queryset=ticket_agents(), empty_label=_("Anyone")
    )
    customer = django_filters.CharFilter(
        method="filter_customer", max_length=19, widget=forms.HiddenInput
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="filter_sort",
        empty_label=_("Default"),
        choices=[
            ("due", _("Due soonest")),
            ("-due", _("Due latest")),
            ("priority", _("Priority, highest first")),
            ("-priority", _("Priority, lowest first")),
            ("-created", _("Newest")),
            ("created", _("Oldest")),
            ("-updated", _("Recently updated")),
            ("updated", _("Least recently updated")),
        ],
    )

    class Meta:
        model = Ticket
        fields = ["q", "status", "priority", "category", "channel", "breach", "team", "assignee"]

    def __init__(self, data=None, *args, view=MINE, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.view = view
        if view in (MINE, UNASSIGNED):
            del self.filters["assignee"]
        if view != ALL:
            self.filters["status"].extra["choices"] = [
                (value, label)
                for value, label in Ticket.Status.choices
                if value in Ticket.OPEN_STATUSES
            ]

    @property
    def form(self):
        """Bootstrap classes on the widgets: the sidebar renders them without crispy, which
        took a third of the queue's server time."""
        form = super().form
        if not getattr(form, "_styled", False):
            for field in form.fields.values():
                select = isinstance(field.widget, forms.Select)
                css = "form-select form-select-sm" if select else "form-control form-control-sm"
                field.widget.attrs.setdefault("class", css)
            form._styled = True
        return form

    def filter_queryset(self, queryset):
        queryset = with_queue_order_fields(self._for_view(queryset))
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*self._order("-created" if self.view == ALL else "due"))
        return queryset

    def _order(self, sort: str) -> list[str | OrderBy]:
        order = SORTS.get(sort, SORTS["due"])
        if sort == "due" and self.view in (MINE, UNASSIGNED):
            # The assignee first, constant in these tabs, lets PostgreSQL read the page in
            # order from the (assignee, paused, next due, id) index even for "IS NULL".
            return ["assignee_id", *order]
        return order

    def _for_view(self, queryset):
        if self.view == ALL:
            return queryset
        queryset = queryset.filter(status__in=Ticket.OPEN_STATUSES)
        if self.view == MINE:
            return queryset.filter(assignee=self.request.user)
        if self.view == UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        return queryset

    def filter_search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        number = _NUMBER.match(term)
        if number and int(number[1]) <= MAX_ID:
            return queryset.filter(Q(pk=int(number[1])) | Q(subject__icontains=term))
        return queryset.filter(subject__icontains=term)

    def filter_customer(self, queryset, name, value):
        customer_id = parse_id(value)
        if customer_id is None:
            return queryset.none()
        return queryset.filter(customer_id=customer_id)

    def filter_breach(self, queryset, name, value):
        breached = Q(first_response_breached=True) | Q(resolution_breached=True)
        if value == BREACHED:
            return queryset.filter(breached)
        if value == AT_RISK:
            return queryset.filter(at_risk=True).exclude(breached)
        if value == ON_TRACK:
            return queryset.exclude(breached).exclude(at_risk=True)
        return queryset

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*self._order(value))
