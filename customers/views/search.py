"""The global search box in the navigation bar."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from crm.lib.params import search_text
from customers.selectors import customers_visible_to, search_customers

RESULT_LIMIT = 20


@permission_required("customers.view_customer", raise_exception=True)
def global_search(request):
    text = search_text(request.GET)
    results = []
    if text.strip():
        results = list(
            search_customers(customers_visible_to(request.user), text)
            .select_related("owner")
            .order_by("name", "id")[: RESULT_LIMIT + 1]
        )
    context = {
        "q": text,
        "search_text": text,
        "results": results[:RESULT_LIMIT],
        "more": len(results) > RESULT_LIMIT,
    }
    template = "customers/partials/search_results.html" if request.htmx else "customers/search.html"
    return render(request, template, context)
