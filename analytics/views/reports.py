"""The pipeline and service dashboards (live aggregates over a chosen period)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from analytics import reports, service_reports
from analytics.csv_export import Col, Table, csv_response, display, find_table
from analytics.service_weeks import agent_output, weekly_service
from analytics.views.common import PeriodForm, chart, export_query
from sales.selectors import deal_scope, deals_visible_to, default_pipeline, orders_visible_to
from service.models import Ticket


def _render_or_export(request, template, tables, context, prefix):
    if "export" in request.GET:
        table = find_table(tables, request.GET["export"])
        if table is None:
            raise Http404
        return csv_response(request, table, prefix)
    return render(request, template, {**context, "tables": tables})


def _pipeline_tables(funnel, months, reps) -> list[Table]:
    tables = [
        Table("funnel", _("Deals created in the period, by stage now"), [
            Col("stage", _("Stage")), Col("deals", _("Deals"), "int"),
            Col("amount", _("Amount"), "money"),
        ], funnel),
        Table("sales-by-month", _("Sales by month against the forecast"), [
            Col("month", _("Month"), "month"), Col("orders", _("Orders total"), "money"),
            Col("forecast_won", _("Deals won"), "money", "d-none d-md-table-cell"),
            Col("forecast_weighted", _("Weighted forecast"), "money"),
        ], months),
    ]  # fmt: skip
    if reps is not None:
        tables.append(
            Table("reps", _("By rep"), [
                Col("owner", _("Owner")), Col("open_deals", _("Open deals"), "int"),
                Col("open_amount", _("Open amount"), "money", "d-none d-md-table-cell"),
                Col("won", _("Won"), "int"), Col("won_amount", _("Won amount"), "money"),
                Col("lost", _("Lost"), "int", "d-none d-md-table-cell"),
                Col("win_rate", _("Win rate"), "percent"),
            ], reps, empty=_("No deals."))
        )  # fmt: skip
    return tables


@permission_required("analytics.view_pipeline_report", raise_exception=True)
def pipeline(request):
    """Reps see their own deals and their own customers' orders (sales.selectors)."""
    form = PeriodForm(request.GET or None)
    period = form.period_or_default()
    deals = deals_visible_to(request.user)
    by_rep = request.user.has_perm("sales.view_any_deal")
    funnel, stats, reps = reports.pipeline_summary(deals, default_pipeline(), period, by_rep=by_rep)
    # Managers see every order, a rep their customers' orders: the cache scope follows.
    sees_all = by_rep and request.user.has_perm("sales.view_order")
    scope = "all" if sees_all else f"user-{request.user.pk}"
    orders = orders_visible_to(request.user)
    months, orders_missing = reports.sales_by_month(
        orders, deal_scope(request.user), timezone.localdate(), scope=scope
    )
    charts = [
        chart("chart-funnel", "bar", [row["stage"] for row in funnel], [
            {"label": _("Deals"), "data": [row["deals"] for row in funnel]}
        ], horizontal=True),
        chart("chart-sales", "bar", [date_format(r["month"], "YEAR_MONTH_FORMAT") for r in months], [
            {"label": _("Orders total"), "data": [float(r["orders"]) for r in months]},
            {"label": _("Weighted forecast"), "data": [float(r["forecast_weighted"]) for r in months],
             "type": "line"},
        ]),
    ]  # fmt: skip
    stats |= {
        "win_rate_text": display("percent", stats["win_rate"]),
        "cycle_days_text": display("decimal1", stats["cycle_days"]),
        "won_amount_text": display("money", stats["won_amount"]),
    }
    context = {
        "form": form,
        "period": period,
        "stats": stats,
        "orders_missing": orders_missing,
        "charts": charts,
        "currency": settings.CRM_CURRENCY,
        "query": export_query(request),
    }
    tables = _pipeline_tables(funnel, months, reps)
    return _render_or_export(request, "analytics/pipeline.html", tables, context, "pipeline")


def _by_agent_name(rows: list[dict]) -> list[dict]:
    """CSAT rows keyed by username, shown with the agent's name."""
    users = get_user_model().objects.filter(username__in=[row["key"] for row in rows if row["key"]])
    names = {user.get_username(): user.get_full_name() or user.get_username() for user in users}
    return [{**row, "key": names.get(row["key"], row["key"])} for row in rows]


def _agent_table(rows: list[dict]) -> Table:
    return Table("agents", _("Agent output"), [
        Col("agent", _("Agent")),
        Col("replies", _("Replies sent"), "int", "d-none d-md-table-cell"),
        Col("resolved", _("Tickets resolved"), "int"),
        Col("first_reply_median_hours", _("First reply, median hours"), "decimal1",
            "d-none d-sm-table-cell"),
    ], rows, empty=_("No agent replied or resolved a ticket in this period."))  # fmt: skip


def _service_tables(volume, sla, csat_category, csat_agent) -> list[Table]:
    categories = Ticket.Category.choices
    labels = dict(categories)
    for row in sla:
        row["label"] = row["category"] or _("All categories")
    for row in csat_category:
        row["label"] = labels.get(row["key"], row["key"])
    for row in csat_agent:
        row["label"] = row["key"] or _("Unassigned")
    csat_cols = [
        Col("average", _("Average score"), "decimal2"),
        Col("responses", _("Responses"), "int"),
    ]
    return [
        Table("volume", _("Tickets per week"), [
            Col("week", _("Week of"), "date", "text-nowrap"),
            *[Col(key, label, "int", "d-none d-xl-table-cell") for key, label in categories],
            Col("total", _("Created"), "int"),
            Col("resolved", _("Resolved"), "int", "d-none d-md-table-cell"),
            Col("backlog", _("Open at week end"), "int"),
            Col("first_reply_median_hours", _("First reply, median hours"), "decimal1",
                "d-none d-md-table-cell"),
            Col("resolution_median_hours", _("Resolution, median hours"), "decimal1",
                "d-none d-md-table-cell"),
        ], volume, empty=_("No tickets in this period.")),
        Table("sla", _("SLA compliance"), [
            Col("label", _("Category")),
            Col("first_response_met", _("Answered in time"), "int", "d-none d-xl-table-cell"),
            Col("first_response_breached", _("Answered late"), "int", "d-none d-xl-table-cell"),
            Col("first_response_compliance", _("First response on time"), "percent"),
            Col("resolution_met", _("Resolved in time"), "int", "d-none d-xl-table-cell"),
            Col("resolution_breached", _("Resolved late"), "int", "d-none d-xl-table-cell"),
            Col("resolution_compliance", _("Resolved on time"), "percent"),
        ], sla, empty=_("No tickets in this period.")),
        Table("csat-category", _("Satisfaction by category"), [Col("label", _("Category")), *csat_cols],
              csat_category, empty=_("No ratings in this period.")),
        Table("csat-agent", _("Satisfaction by agent"), [Col("label", _("Agent")), *csat_cols],
              csat_agent, empty=_("No ratings in this period.")),
    ]  # fmt: skip


@permission_required("analytics.view_service_report", raise_exception=True)
def service(request):
    form = PeriodForm(request.GET or None)
    period = form.period_or_default()
    volume = weekly_service(period)  # every week of the period, quiet ones as zeros
    sla = service_reports.sla_compliance(period)
    tables = _service_tables(
        volume,
        sla,
        service_reports.csat_by(period, "ticket__category"),
        _by_agent_name(service_reports.csat_by(period, "ticket__assignee__username")),
    )
    tables.append(_agent_table(agent_output(period)))
    week_labels = [date_format(row["week"], "SHORT_DATE_FORMAT") for row in volume]
    charts = [
        chart("chart-volume", "bar", week_labels, [
            *[{"label": str(label), "data": [row[key] for row in volume]}
              for key, label in Ticket.Category.choices],
        ], stacked=True),
        chart("chart-backlog", "line", week_labels, [
            {"label": _("Open at the end of the week"), "data": [row["backlog"] for row in volume]},
            {"label": _("Resolved"), "data": [row["resolved"] for row in volume]},
        ]),
        chart("chart-medians", "line", week_labels, [
            {"label": _("First reply (median hours)"),
             "data": [row["first_reply_median_hours"] for row in volume]},
            {"label": _("Resolution (median hours)"),
             "data": [row["resolution_median_hours"] for row in volume]},
        ]),
    ]  # fmt: skip
    total = sla[-1] if sla else {}
    sla_total_text = {
        name: display("percent", total.get(f"{name}_compliance"))
        for name in ("first_response", "resolution")
    }
    context = {"form": form, "period": period, "sla_total_text": sla_total_text,
               "charts": charts, "query": export_query(request)}  # fmt: skip
    return _render_or_export(request, "analytics/service.html", tables, context, "service")
