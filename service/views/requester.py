"""A requester's ticket (a web request from an unknown address): an agent decides who it is.

GET lists customers matching a search (and, first, those with the requester's email);
POST action=link links the ticket to one of them, action=create makes a customer (a lead
from the website) from the requester's name and email. Agents who work tickets may do
both: deciding who wrote in is part of working the ticket (issue 13).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.params import MAX_ID, parse_id, search_text
from customers.models import Customer
from customers.selectors import customers_visible_to, search_customers
from service.models import Ticket
from service.selectors import tickets_workable_by
from service.services import ticket_customer_from_requester, ticket_link_customer

RESULTS = 20
CANDIDATES = 5


def requester_candidates(user, ticket: Ticket) -> list[Customer]:
    """Customers the user may see whose or whose contact's email is the requester's."""
    if not ticket.requester_email:
        return []
    email = ticket.requester_email
    matches = customers_visible_to(user).filter(
        Q(email__iexact=email) | Q(contacts__email__iexact=email)
    )
    return list(matches.distinct().order_by("name", "id")[:CANDIDATES])


@require_http_methods(["GET", "POST"])
def ticket_requester(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("service.work_ticket"):
        raise PermissionDenied
    if pk > MAX_ID:
        raise Http404
    ticket = get_object_or_404(tickets_workable_by(request.user), pk=pk)
    if ticket.customer_id is not None:
        messages.info(request, _("This ticket already belongs to a customer."))
        return redirect(ticket)
    if request.method == "POST":
        return _decide(request, ticket)
    text = search_text(request.GET)
    customers = customers_visible_to(request.user)
    results = (
        list(search_customers(customers, text).order_by("name", "id")[:RESULTS])
        if text
        else requester_candidates(request.user, ticket)
    )
    context = {"ticket": ticket, "q": text, "results": results}
    return render(request, "service/ticket_requester.html", context)


def _decide(request: AuthenticatedHttpRequest, ticket: Ticket) -> HttpResponse:
    action = request.POST.get("action")
    try:
        if action == "link":
            customer_id = parse_id(request.POST.get("customer"))
            customer = get_object_or_404(customers_visible_to(request.user), pk=customer_id or 0)
            ticket_link_customer(ticket=ticket, customer=customer, user=request.user)
            messages.success(
                request,
                _("Ticket %(number)s linked to %(name)s.")
                % {"number": ticket.number, "name": customer.name},
            )
        elif action == "create":
            customer = ticket_customer_from_requester(ticket=ticket, user=request.user)
            messages.success(
                request,
                _("Customer %(name)s created from the requester.") % {"name": customer.name},
            )
        else:
            return redirect("service:ticket-requester", pk=ticket.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(ticket)
