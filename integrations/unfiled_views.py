"""The unfiled sales email list: file a message on a customer, or discard it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.lib.params import MAX_ID, parse_id, search_text
from customers.selectors import customers_workable_by, search_customers
from integrations.models import InboundEmail
from integrations.unfiled import (
    may_file_email,
    unfiled_count,
    unfiled_discard,
    unfiled_file,
    unfiled_visible_to,
)

PAGE_SIZE = 20
PICK_RESULTS = 20


def _unfiled_or_404(request: HttpRequest, pk: int) -> InboundEmail:
    if not may_file_email(request.user) or pk > MAX_ID:
        raise Http404
    return get_object_or_404(unfiled_visible_to(request.user), pk=pk)


@login_required
def unfiled_list(request: HttpRequest) -> HttpResponse:
    if not may_file_email(request.user):
        raise Http404
    page = Paginator(unfiled_visible_to(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "integrations/mail/unfiled_list.html", {"page": page})


@login_required
def unfiled_badge(request: HttpRequest) -> HttpResponse:
    """The navigation's count of the user's unfiled email (loaded by htmx after the page)."""
    count = unfiled_count(request.user) if may_file_email(request.user) else 0
    return render(request, "integrations/mail/unfiled_badge.html", {"count": count})


@login_required
def unfiled_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick the customer (the shared search partial), then confirm with a POST."""
    inbound = _unfiled_or_404(request, pk)
    customers = customers_workable_by(request.user)
    wanted = parse_id(request.POST.get("customer") or request.GET.get("customer"))
    customer = get_object_or_404(customers, pk=wanted) if wanted is not None else None
    if request.method == "POST":
        if customer is None:
            raise Http404
        interaction = unfiled_file(inbound=inbound, customer=customer, by=request.user)  # type: ignore[arg-type]
        if interaction is None:
            messages.warning(request, _("This message was filed or discarded meanwhile."))
        else:
            messages.success(request, _("Filed on %(customer)s.") % {"customer": customer.name})
        return redirect("mail:unfiled-list")
    text = search_text(request.GET)
    results = (
        search_customers(customers, text).order_by("name", "id")[:PICK_RESULTS] if text else []
    )
    context = {"inbound": inbound, "customer": customer, "q": text, "results": results}
    return render(request, "integrations/mail/unfiled_file.html", context)


@login_required
@require_POST
def unfiled_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = _unfiled_or_404(request, pk)
    if unfiled_discard(inbound=inbound, by=request.user):  # type: ignore[arg-type]
        messages.success(request, _("Message discarded."))
    else:
        messages.warning(request, _("This message was filed or discarded meanwhile."))
    return redirect("mail:unfiled-list")
