"""The global search box in the navigation bar: customers, contacts, deals and tickets, each
from the app that owns them (crm.lib.search), limited to what the user may see."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from crm.lib.params import search_text
from crm.lib.search import search_sources_for

SUGGESTIONS_PER_KIND = 5  # in the drop-down under the box
RESULTS_PER_KIND = 20  # on the search page


@permission_required("customers.view_customer", raise_exception=True)
def global_search(request):
    text = search_text(request.GET)
    limit = SUGGESTIONS_PER_KIND if request.htmx else RESULTS_PER_KIND
    groups = []
    if text.strip():
        for source in search_sources_for(request.user):
            hits = source.search(request.user, text, limit + 1)
            if hits:
                groups.append(
                    {
                        "key": source.key,
                        "label": source.label,
                        "hits": hits[:limit],
                        "more": len(hits) > limit,
                    }
                )
    context = {"q": text, "search_text": text, "groups": groups}
    template = "customers/partials/search_results.html" if request.htmx else "customers/search.html"
    return render(request, template, context)
