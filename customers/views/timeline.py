"""The customer's timeline on the 360° page, and its older pages (htmx "Older")."""

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from crm.lib.timeline import TimelineFilterForm, sources_for, timeline_page
from customers.models import Customer
from customers.selectors import customers_visible_to


def timeline_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The timeline's page for the query string (?kind=…&before=…), its filter and the
    query of its next page."""
    sources = sources_for(request.user)
    form = TimelineFilterForm(request.GET, sources=sources)
    kinds, cursor = form.choice()
    page = timeline_page(request.user, customer, kinds=kinds, cursor=cursor)
    older = ""
    if page.next_cursor is not None:
        older = urlencode(
            [*(("kind", kind) for kind in kinds), ("before", page.next_cursor.encode())]
        )
    return {
        "timeline": page.events,
        "timeline_form": form,
        "timeline_kinds": kinds,
        "timeline_older": older,
        "timeline_is_older_page": cursor is not None,
    }


@permission_required("customers.view_customer", raise_exception=True)
def customer_timeline_more(request: HttpRequest, pk: int) -> HttpResponse:
    """The next entries of the timeline and the next "Older" link, as list items."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    context = {"customer": customer, **timeline_context(request, customer)}
    return render(request, "customers/partials/timeline_entries.html", context)
