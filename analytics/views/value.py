"""The value dashboard: Pareto curve, LTV distribution, the "cannot lose them" list."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics import reports, selectors
from analytics.csv_export import Col, Table, csv_response, display, find_table
from analytics.views.common import chart, export_query
from crm.lib.http import AuthenticatedHttpRequest
from customers.services import follow_up_tasks_create

PAGE_SIZE = 25
FOLLOW_UP_DAYS = 3
# One request creates at most this many tasks (the most valuable customers first), so
# a very long list cannot time the request out; pressing again continues down the list
# (customers with an open follow-up are skipped).
MAX_TASKS = 1000


def _cannot_lose_rows(values) -> list[dict]:
    return [
        {
            "customer": value.customer.name,
            "customer_url": value.customer.get_absolute_url(),
            "segment": value.get_segment_display(),
            "owner": value.customer.owner.get_username() if value.customer.owner else None,
            "revenue": value.revenue,
            "predicted_ltv": value.predicted_ltv,
            "probability_alive": value.probability_alive,
            "last_purchase": value.last_purchase,
        }
        for value in values
    ]


def _tables(pareto: dict, histogram: list[dict], cannot_lose_rows: list[dict]) -> list[Table]:
    deciles = _deciles(pareto["points"])
    return [
        Table("pareto", _("Share of revenue by share of customers"), [
            Col("x", _("Top customers"), "percent"), Col("y", _("Share of revenue"), "percent"),
        ], deciles, empty=_("No customer has orders.")),
        Table("ltv", _("Predicted 12-month value"), [
            Col("low", _("From"), "reporting"), Col("high", _("To"), "reporting"),
            Col("customers", _("Customers"), "int"),
        ], histogram),
        Table("cannot-lose", _("Cannot lose them"), [
            Col("customer", _("Customer")), Col("segment", _("Segment"), css_class="d-none d-md-table-cell"),
            Col("owner", _("Owner"), css_class="d-none d-sm-table-cell"),
            Col("revenue", _("Revenue"), "reporting"),
            Col("predicted_ltv", _("Predicted 12-month value"), "reporting"),
            Col("probability_alive", _("Probability alive"), "percent"),
            Col("last_purchase", _("Last purchase"), "date", "d-none d-lg-table-cell"),
        ], cannot_lose_rows, link=lambda row: row["customer_url"],
           empty=_("No valuable customer is slipping away.")),
    ]  # fmt: skip


def _deciles(points: list[dict]) -> list[dict]:
    """For 10%, 20%, … of customers: the first point at or past that share."""
    rows = []
    for tenth in range(1, 11):
        point = next((p for p in points if p["x"] >= tenth / 10 - 1e-9), None)
        if point is not None and point not in rows:
            rows.append(point)
    return rows


def _charts(pareto: dict, histogram: list[dict]) -> list[dict]:
    return [
        chart("chart-pareto", "line", [], [
            {"label": _("Share of revenue"), "data": pareto["points"]}
        ], percent=True, xy=True, x_label=_("Share of customers, highest revenue first")),
        chart("chart-ltv", "bar", [display("int", row["low"]) for row in histogram], [
            {"label": _("Customers"), "data": [row["customers"] for row in histogram]}
        ]),
    ]  # fmt: skip


@permission_required("analytics.view_value_report", raise_exception=True)
def value(request):
    run = selectors.current_run()
    context = {"run": run, "query": export_query(request)}
    if run is None:
        return render(request, "analytics/value.html", context)
    pareto = reports.pareto(run)
    histogram = reports.ltv_histogram(run)
    export = request.GET.get("export")
    if export == "cannot-lose":  # every row, not only the page
        values = reports.cannot_lose(run)
        return csv_response(
            request, _tables(pareto, histogram, _cannot_lose_rows(values))[2], "value"
        )
    paginator = Paginator(reports.cannot_lose(run), PAGE_SIZE)
    paginator.count = reports.cannot_lose_count(run)  # a run never changes
    page = paginator.get_page(request.GET.get("page"))
    tables = _tables(pareto, histogram, _cannot_lose_rows(page.object_list))
    if export is not None:
        table = find_table(tables, export)
        if table is None:
            raise Http404
        return csv_response(request, table, "value")
    context |= {
        "pareto": pareto,
        "top20": number_format(pareto["top20_share"] * 100, 1) + "%",
        "tables": tables,
        "page": page,
        "charts": _charts(pareto, histogram),
    }
    return render(request, "analytics/value.html", context)


@permission_required("customers.add_task", raise_exception=True)
@permission_required("analytics.view_value_report", raise_exception=True)
@require_POST
def cannot_lose_tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A follow-up task for the owner of every customer on the "cannot lose them" list."""
    run = selectors.current_run()
    if run is None:
        messages.warning(request, _("No segment run yet."))
        return redirect("analytics:value")
    values = reports.cannot_lose(run).iterator(chunk_size=500)  # the most valuable first
    created, skipped = follow_up_tasks_create(
        customers=(value.customer for value in values),
        title=_("Keep this valuable customer: get in touch"),
        due_date=timezone.localdate() + timedelta(days=FOLLOW_UP_DAYS),
        created_by=request.user,
        limit=MAX_TASKS,
    )
    messages.success(
        request, _("Created %(created)d tasks; skipped %(skipped)d.") % {
            "created": created, "skipped": skipped}
    )  # fmt: skip
    return redirect("analytics:value")
