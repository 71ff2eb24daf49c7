"""Campaign results: the report on the campaign page and the channel × segment matrix."""

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode

from analytics.csv_export import csv_response, display
from marketing.forms import MatrixDatesForm
from marketing.reports import (
    ROI_MIN_COST,
    ROI_MIN_SENT,
    campaign_figures,
    campaign_table,
    channel_segment_matrix,
    converted_recipients,
    matrix_table,
    roi_text,
)
from marketing.selectors import campaigns_visible_to

CONVERSIONS_SHOWN = 10
# The thresholds the "small sample" note names.
SMALL_SAMPLE = {"roi_min_cost": ROI_MIN_COST, "roi_min_sent": ROI_MIN_SENT}


@permission_required("marketing.view_campaign", raise_exception=True)
def campaign_report(request, pk):
    """The report card (loaded into the campaign page by htmx), or its CSV with ?export."""
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=pk)
    figures = campaign_figures(campaign)
    table = campaign_table(campaign, figures)
    if request.GET.get("export") == table.name:
        return csv_response(request, table, prefix=f"campaign-{campaign.pk}")
    context = {
        "campaign": campaign,
        "figures": figures,
        "cells": dict(zip([c.key for c in table.columns], table.display_rows()[0], strict=True)),
        "conversions": converted_recipients(campaign)[:CONVERSIONS_SHOWN],
        "roi": roi_text(figures.roi),
        "currency": settings.CRM_CURRENCY,  # revenue: orders' totals in the reporting currency
        **SMALL_SAMPLE,
    }
    return render(request, "marketing/reports/campaign_report_card.html", context)


def _require_matrix_access(user) -> None:
    """A value report across campaigns: people who work campaigns and read customer value."""
    if not (
        user.has_perm("marketing.view_campaign") and user.has_perm("analytics.view_value_report")
    ):
        raise PermissionDenied


def channel_segment_matrix_view(request):
    _require_matrix_access(request.user)
    dates = MatrixDatesForm(request.GET or None)
    span = dates.cleaned_data if dates.is_valid() else {}
    matrix = channel_segment_matrix(
        campaigns_visible_to(request.user),
        sent_from=span.get("sent_from"),
        sent_to=span.get("sent_to"),
    )
    table = matrix_table(matrix)
    if request.GET.get("export") == table.name:
        return csv_response(request, table, prefix="campaigns")
    channels = matrix.channels()
    grid = [
        (
            label,
            [_cell(matrix.cells.get((channel, segment))) for channel, _label in channels],
        )
        for segment, label in matrix.segments()
    ]
    context = {
        "matrix": matrix,
        "table": table,
        "channels": channels,
        "grid": grid,
        "dates": dates,
        "query": urlencode({k: v.isoformat() for k, v in span.items() if v}),
        **SMALL_SAMPLE,
    }
    return render(request, "marketing/reports/matrix.html", context)


def _cell(figures) -> dict | None:
    if figures is None:
        return None
    roi = figures.roi
    return {
        "roi": roi_text(roi),
        "small": figures.small_sample,
        "pays": roi is not None and roi > 0,
        "loses": roi is not None and roi < 0,
        "rate": display("percent", figures.conversion_rate),
        "cost": display("money", figures.cost),
        "revenue": display("money", figures.revenue),
        "sent": display("int", figures.sent),
    }
