"""The segments dashboard and the 360° page's "Value and segment" panel.

Reps read segments too, but not money: the revenue, revenue-share and LTV figures
(columns, chart and CSV) need analytics.view_value_report (managers, marketers).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from analytics import reports, selectors
from analytics.csv_export import Col, Table, csv_response, display, find_table
from analytics.models import Segment
from analytics.views.common import chart, export_query
from customers.models import Customer
from customers.selectors import customers_visible_to, may_see_customer_money


def _segment_table(rows: list[dict], with_value: bool) -> Table:
    columns = [
        Col("label", _("Segment")),
        Col("customers", _("Customers"), "int"),
        Col("customer_share", _("Share of customers"), "percent"),
    ]
    if with_value:
        columns += [
            Col("revenue", _("Revenue"), "reporting"),
            Col("revenue_share", _("Share of revenue"), "percent", "d-none d-md-table-cell"),
            Col("average_ltv", _("Average predicted 12-month value"), "reporting"),
        ]
    list_url = reverse("customers:customer-list")
    return Table(
        "segments",
        _("Segments"),
        columns,
        rows,
        link=lambda row: f"{list_url}?segment={row['segment']}",
    )


def _migration_table(matrix: dict) -> Table:
    labels = dict(Segment.choices)
    columns = [Col("from", _("From ↓ / to →"))]
    columns += [Col(key, labels[key], "int") for key in matrix["columns"]]
    columns.append(Col("total", _("Total"), "int"))
    rows = [
        {
            # Customers the previous run did not have: not the "New" segment (one label twice).
            "from": labels.get(row["segment"]) or pgettext("segment move", "Not in the last run"),
            **dict(zip(matrix["columns"], row["cells"], strict=True)),
            "total": row["total"],
        }
        for row in matrix["rows"]
    ]
    empty = _("Segment moves appear once there are two runs.")
    return Table("migration", _("Moves between the last two runs"), columns, rows, empty=empty)


def _trend_table(trend: dict) -> Table:
    labels = dict(Segment.choices)
    columns = [Col("as_of", _("Run as of"), "date")]
    columns += [Col(s["segment"], labels[s["segment"]], "int") for s in trend["series"]]
    rows = [
        {"as_of": run["as_of"], **{s["segment"]: s["sizes"][i] for s in trend["series"]}}
        for i, run in enumerate(trend["runs"])
    ]
    return Table("trend", _("Segment sizes over the last runs"), columns, rows)


def _charts(rows, trend, with_value: bool) -> list[dict]:
    labels = [str(row["label"]) for row in rows]
    charts = [
        chart("chart-segment-customers", "bar", labels, [
            {"label": _("Customers"), "data": [row["customers"] for row in rows]}
        ]),
        chart("chart-segment-trend", "line", [display("date", r["as_of"]) for r in trend["runs"]], [
            {"label": str(Segment(s["segment"]).label), "data": s["sizes"]}
            for s in trend["series"]
        ]),
    ]  # fmt: skip
    if with_value:
        charts.append(
            chart("chart-segment-revenue", "doughnut", labels, [
                {"label": _("Share of revenue"),
                 "data": [round(row["revenue_share"] * 100, 1) for row in rows]}
            ], percent=True)
        )  # fmt: skip
    return charts


@permission_required("analytics.view_segmentrun", raise_exception=True)
def segments(request):
    run = selectors.current_run()
    latest = selectors.latest_run()
    context = {"run": run, "latest": latest, "query": export_query(request)}
    if run is None:
        return render(request, "analytics/segments.html", context)
    with_value = request.user.has_perm("analytics.view_value_report")
    rows = reports.segment_rows(run)
    trend = reports.segment_trend()
    tables = [
        _segment_table(rows, with_value),
        _migration_table(reports.migration_matrix(run)),
        _trend_table(trend),
    ]
    if "export" in request.GET:
        table = find_table(tables, request.GET["export"])
        if table is None:
            raise Http404
        return csv_response(request, table, "segments")
    context |= {"tables": tables, "charts": _charts(rows, trend, with_value)}
    context["with_value"] = with_value
    return render(request, "analytics/segments.html", context)


CUSTOMER_VALUE_PANEL = "analytics/partials/customer_value_panel.html"


@permission_required("analytics.view_customervalue", raise_exception=True)
def customer_value_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The 360° page's panel: segment, scores and value in the current run."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    return render(request, CUSTOMER_VALUE_PANEL, customer_value_context(request, customer))


def customer_value_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The value panel of a customer the user may see (the 360° page renders it inline)."""
    run = selectors.current_run()
    value = selectors.customer_value(customer, run) if run else None
    context: dict[str, Any] = {
        "customer": customer,
        "run": run,
        "value": value,
        "recommendations": [],
    }
    if value is not None:
        context["recommendations"] = list(selectors.recommendations_for(customer, limit=5, run=run))
        context["currency"] = settings.CRM_CURRENCY
        context["texts"] = {
            "orders": display("int", value.orders),
            "probability_alive": display("percent", value.probability_alive),
        }
        # Revenue, average order and predicted value are in CRM_CURRENCY (the `money` filter).
        context["with_money"] = may_see_customer_money(request.user, customer)
    return context
