"""The agents' queue, bulk actions, a new ticket and the tickets panel of the 360° page."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from crm.lib.http import querystring_without, safe_next_url
from crm.lib.paging import with_deep_paging
from crm.lib.params import MAX_ID, parse_id, search_text
from customers.models import Customer
from customers.selectors import customers_visible_to, search_customers
from service.filters import ALL, VIEWS, TicketFilter, queue_view
from service.forms import BulkForm, TicketCreateForm
from service.models import Ticket
from service.selectors import (
    customer_service_summary,
    tickets_visible_to,
    tickets_workable_by,
    with_sla_flags,
)
from service.services import ticket_create, tickets_bulk_assign, tickets_bulk_set_status
from service.views.display import attach_sla, queue_row_shown

PAGE_SIZE = 25
PANEL_TICKETS = 5
PICK_RESULTS = 20


@permission_required("service.view_any_ticket", raise_exception=True)
def ticket_list(request):
    """The queue; reps, who see only their customers' tickets, use the 360° panel instead."""
    view = queue_view(request)
    now = timezone.now()
    ticket_filter = TicketFilter(
        request.GET,
        queryset=with_sla_flags(tickets_visible_to(request.user), now=now),
        request=request,
        view=view,
    )
    # A deep page reads its ids first (an index-only skip), then its 25 rows.
    tickets = with_deep_paging(ticket_filter.qs.select_related("customer", "assignee", "team"))
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = attach_sla(page.object_list, now)
    can_work = request.user.has_perm("service.work_ticket")
    for ticket in page.object_list:
        ticket.row_shown = queue_row_shown(ticket, can_work)
    context = {
        "filter": ticket_filter,
        "page": page,
        "view": view,
        "views": [
            (key, label, querystring_without(request.GET, "page", "view")) for key, label in VIEWS
        ],
        "query": querystring_without(request.GET, "page"),
        "sort_query": querystring_without(request.GET, "page", "sort"),
        "sort": request.GET.get("sort", ""),
        "filtered": any(
            request.GET.get(name) for name in ticket_filter.form.fields if name != "sort"
        ),
        "customer_filter": _customer_filter(request, ticket_filter),
        # Its own id prefix: the filter sidebar has an assignee and a status field too.
        "bulk_form": BulkForm(auto_id="bulk_%s") if can_work else None,
        "can_work": can_work,
        "paused_title": _("Waiting on the customer: the SLA clock is stopped."),
    }
    return render(request, "service/ticket_list.html", context)


def _customer_filter(request, ticket_filter):
    """The customer whose tickets the list is limited to (?customer=), for the heading."""
    if not ticket_filter.is_valid():
        return None
    customer_id = parse_id(ticket_filter.form.cleaned_data.get("customer"))
    if customer_id is None:
        return None
    return customers_visible_to(request.user).filter(pk=customer_id).first()


def _numbers(tickets) -> str:
    return ", ".join(ticket.number for ticket in tickets)


@permission_required("service.work_ticket", raise_exception=True)
@require_POST
def ticket_bulk(request):
    back = safe_next_url(request, reverse("service:ticket-list"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    data = form.cleaned_data
    tickets = tickets_workable_by(request.user).filter(pk__in=data["selected"])
    if data["action"] == BulkForm.STATUS:
        _bulk_status(request, tickets, data["status"])
        return redirect(back)
    assignee = request.user if data["action"] == BulkForm.ASSIGN_ME else data["assignee"]
    count = tickets_bulk_assign(user=request.user, tickets=tickets, assignee=assignee)
    text = ngettext(
        "%(n)d ticket assigned to %(name)s.", "%(n)d tickets assigned to %(name)s.", count
    )
    name = assignee.get_full_name() or assignee.get_username()
    messages.success(request, text % {"n": count, "name": name})
    return redirect(back)


def _bulk_status(request, tickets, status):
    count, skipped = tickets_bulk_set_status(user=request.user, tickets=tickets, status=status)
    label = Ticket.Status(status).label
    messages.success(
        request,
        ngettext("%(n)d ticket set to “%(status)s”.", "%(n)d tickets set to “%(status)s”.", count)
        % {"n": count, "status": label},
    )
    if not skipped:
        return
    complaints = [t for t in skipped if t.category == Ticket.Category.COMPLAINT]
    others = [t for t in skipped if t.category != Ticket.Category.COMPLAINT]
    if complaints:
        messages.warning(
            request,
            ngettext(
                "%(n)d complaint needs a root cause first: %(numbers)s. Open it to record one.",
                "%(n)d complaints need a root cause first: %(numbers)s. Open them to record one.",
                len(complaints),
            )
            % {"n": len(complaints), "numbers": _numbers(complaints)},
        )
    if others:
        messages.warning(
            request,
            ngettext(
                "%(n)d ticket was not changed: %(numbers)s.",
                "%(n)d tickets were not changed: %(numbers)s.",
                len(others),
            )
            % {"n": len(others), "numbers": _numbers(others)},
        )


@permission_required("service.add_ticket", raise_exception=True)
@require_http_methods(["GET", "POST"])
def ticket_create_view(request):
    customers = customers_visible_to(request.user)
    wanted = parse_id(request.GET.get("customer"))
    if wanted is None:
        return _pick_customer(request, customers)
    customer = get_object_or_404(customers, pk=wanted)
    form = TicketCreateForm(request.POST or None, customer=customer)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ticket = ticket_create(
                    customer=customer, created_by=request.user, **form.ticket_fields()
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, _("Ticket %(number)s created.") % {"number": ticket.number}
                )
                return redirect(ticket)
        status = 422
    context = {"form": form, "customer": customer}
    return render(request, "service/ticket_form.html", context, status=status)


def _pick_customer(request, customers):
    """First step of a new ticket: find the customer (a select of every one would not do)."""
    text = search_text(request.GET)
    results = (
        search_customers(customers, text).order_by("name", "id")[:PICK_RESULTS] if text else []
    )
    return render(request, "service/ticket_customer_pick.html", {"q": text, "results": results})


CUSTOMER_TICKETS_PANEL = "service/partials/customer_tickets_panel.html"


@permission_required("service.view_ticket", raise_exception=True)
def customer_tickets_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The 360° page's panel: the customer's latest tickets the user may see."""
    if pk > MAX_ID:
        raise Http404
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    return render(request, CUSTOMER_TICKETS_PANEL, customer_tickets_context(request, customer))


def customer_tickets_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The tickets panel of a customer the user may see (deferred on the 360° page)."""
    now = timezone.now()
    tickets = (
        with_sla_flags(tickets_visible_to(request.user).filter(customer=customer), now=now)
        .select_related("satisfaction")
        .order_by("-created_at", "-id")[:PANEL_TICKETS]
    )
    summary = customer_service_summary(customer, user=request.user)
    return {
        "customer": customer,
        "tickets": attach_sla(tickets, now),
        "summary": summary,
        "total": summary["open_tickets"] + summary["past_tickets"],
        "can_add": request.user.has_perm("service.add_ticket"),
        "queue_url": (
            f"{reverse('service:ticket-list')}?view={ALL}&customer={customer.pk}"
            if request.user.has_perm("service.view_any_ticket")
            else None
        ),
    }
