"""Campaign results: one campaign's report, and the channel × segment matrix across campaigns.

Cost is the campaign's actual cost when recorded, else its budget. ROI is
(revenue − cost) / cost; a figure that would divide by zero is None (shown as "—").
In the matrix a campaign's cost is shared equally among the recipients it was sent to, and
each recipient counts under the segment they were in when the audience was frozen
(CampaignRecipient.segment, stored by the sender), else their segment in the current
analytics run.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.csv_export import Col, Table, display
from analytics.models import CustomerValue, Segment
from analytics.selectors import current_run
from marketing.attribution import (
    SENT_STATUSES,
    conversion_filter,
    tally,
    with_attribution,
    with_window,
)
from marketing.models import Campaign, CampaignChannel, CampaignRecipient

NO_SEGMENT = ""
CENT = Decimal("0.01")
# Below either, an ROI says more about chance than about the campaign ("130,270.8%" on a
# cost of 7.73): it is still shown, marked "small sample" with these thresholds.
ROI_MIN_COST = Decimal("100")
ROI_MIN_SENT = 30


def campaign_cost(campaign: Campaign) -> Decimal:
    return campaign.actual_cost if campaign.actual_cost else campaign.budget


def _money(value) -> Decimal:
    """SQLite sums decimals as floats: round back to cents."""
    return Decimal(str(value or 0)).quantize(CENT)


def _ratio(numerator, denominator) -> Decimal | None:
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


@dataclass
class Figures:
    """Results of a set of recipients: a campaign, or one cell of the matrix."""

    sent: int = 0
    bounced: int = 0
    responses: int = 0
    conversions: int = 0
    revenue: Decimal = Decimal("0")
    cost: Decimal = Decimal("0")
    opened: int = 0  # recipients who opened at least once (the pixel, or a click)
    clicked: int = 0  # recipients who clicked at least once
    manual_conversions: int = 0  # recorded by hand, without an attributed order
    unconverted: int = 0  # attributed orders without an exchange rate: not in `revenue`

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced

    @property
    def bounce_rate(self) -> Decimal | None:
        return _ratio(self.bounced, self.sent)

    @property
    def open_rate(self) -> Decimal | None:
        return _ratio(self.opened, self.sent)

    @property
    def click_rate(self) -> Decimal | None:
        return _ratio(self.clicked, self.sent)

    @property
    def conversion_rate(self) -> Decimal | None:
        return _ratio(self.conversions, self.sent)

    @property
    def cost_per_conversion(self) -> Decimal | None:
        return _ratio(self.cost, self.conversions)

    @property
    def roi(self) -> Decimal | None:
        return _ratio(self.revenue - self.cost, self.cost)

    @property
    def small_sample(self) -> bool:
        """Too little spent or sent for the ROI to mean much (see ROI_MIN_COST)."""
        return self.roi is not None and (self.cost < ROI_MIN_COST or self.sent < ROI_MIN_SENT)

    def as_row(self) -> dict:
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "responses": self.responses,
            "conversions": self.conversions,
            "manual_conversions": self.manual_conversions,
            "unconverted": self.unconverted,
            "conversion_rate": self.conversion_rate,
            "revenue": self.revenue,
            "cost": self.cost,
            "cost_per_conversion": self.cost_per_conversion,
            "roi": self.roi,
            "bounced": self.bounced,
            "bounce_rate": self.bounce_rate,
            "opened": self.opened,
            "open_rate": self.open_rate,
            "clicked": self.clicked,
            "click_rate": self.click_rate,
        }


def roi_text(roi: Decimal | None) -> str:
    """The ROI for people: whole percents from 1,000% up (no false precision)."""
    if roi is not None and abs(roi) >= 10:
        return display("int", roi * 100) + "%"
    return display("percent", roi)


def campaign_figures(campaign: Campaign) -> Figures:
    """One query: the recipients with their first attributed order, summed."""
    recipients = with_window(
        CampaignRecipient.objects.filter(campaign=campaign), campaign.attribution_days
    )
    (totals,) = tally(recipients)
    totals["revenue"] = _money(totals["revenue"])
    return Figures(**totals, cost=campaign_cost(campaign))


def figures_by_campaign(campaigns: list[Campaign]) -> dict[int, Figures]:
    """Each campaign's figures (the campaign list's ROI): one grouped query per distinct
    attribution window among `campaigns`."""
    by_window: dict[int, list[Campaign]] = defaultdict(list)
    for campaign in campaigns:
        by_window[campaign.attribution_days].append(campaign)
    result = {c.pk: Figures(cost=campaign_cost(c)) for c in campaigns}
    for days, members in by_window.items():
        recipients = CampaignRecipient.objects.filter(campaign_id__in=[c.pk for c in members])
        for row in tally(with_window(recipients, days), ("campaign_id",)):
            campaign_id = row.pop("campaign_id")
            row["revenue"] = _money(row["revenue"])
            result[campaign_id] = Figures(**row, cost=result[campaign_id].cost)
    return result


def converted_recipients(campaign: Campaign) -> QuerySet:
    """The converted recipients with their attributed order, newest first (for the page)."""
    return (
        with_attribution(
            CampaignRecipient.objects.filter(campaign=campaign), campaign.attribution_days
        )
        .filter(conversion_filter())
        .select_related("customer")
        .order_by("-id")
    )


_REPORT_COLUMNS = [
    Col("sent", gettext_lazy("Sent"), "int"),
    Col("delivered", gettext_lazy("Delivered"), "int"),
    Col("responses", gettext_lazy("Responses"), "int"),
    Col("conversions", gettext_lazy("Conversions"), "int"),
    Col("conversion_rate", gettext_lazy("Conversion rate"), "percent"),
    Col("revenue", gettext_lazy("Attributed revenue"), "money"),
    Col("cost", gettext_lazy("Cost"), "money"),
    Col("cost_per_conversion", gettext_lazy("Cost per conversion"), "money"),
    Col("roi", gettext_lazy("ROI"), "percent"),
    # Delivery feedback (marketing.services.feedback): rates are per recipient sent.
    Col("bounced", gettext_lazy("Bounced"), "int"),
    Col("bounce_rate", gettext_lazy("Bounce rate"), "percent"),
    Col("opened", gettext_lazy("Opened"), "int"),
    Col("open_rate", gettext_lazy("Open rate"), "percent"),
    Col("clicked", gettext_lazy("Clicked"), "int"),
    Col("click_rate", gettext_lazy("Click rate"), "percent"),
    Col("manual_conversions", gettext_lazy("Conversions recorded by hand"), "int"),
]


def campaign_table(campaign: Campaign, figures: Figures) -> Table:
    row = {"campaign": campaign.name, "channel": campaign.get_channel_display(), **figures.as_row()}
    columns = [
        Col("campaign", _("Campaign")),
        Col("channel", _("Channel")),
        *_REPORT_COLUMNS,
    ]
    return Table(name="report", title=_("Results"), columns=columns, rows=[row])


@dataclass
class Matrix:
    run: object  # the analytics run whose segments are used, or None
    cells: dict = field(default_factory=dict)  # (channel, segment) -> Figures

    def channels(self) -> list[tuple[str, str | Promise]]:
        used = {channel for channel, _segment in self.cells}
        return [(value, label) for value, label in CampaignChannel.choices if value in used]

    def segments(self) -> list[tuple[str, str | Promise]]:
        used = {segment for _channel, segment in self.cells}
        known = [(value, label) for value, label in Segment.choices if value in used]
        return known + ([(NO_SEGMENT, _("No segment"))] if NO_SEGMENT in used else [])


def channel_segment_matrix(
    campaigns: QuerySet[Campaign], *, sent_from: date | None = None, sent_to: date | None = None
) -> Matrix:
    """Figures per (channel, segment) over the sent recipients of `campaigns`; with dates,
    only the recipients sent between them (inclusive days, local time).

    Queries: the run, the campaigns, then one grouped query per distinct attribution window.
    """
    run = current_run()
    matrix = Matrix(run=run)
    by_window: dict[int, list[Campaign]] = defaultdict(list)
    for campaign in campaigns.only("id", "channel", "attribution_days", "actual_cost", "budget"):
        by_window[campaign.attribution_days].append(campaign)
    groups = []
    for days, members in by_window.items():
        groups += list(_grouped(run, days, [c.pk for c in members], sent_from, sent_to))
    campaigns_by_id = {c.pk: c for members in by_window.values() for c in members}
    sent_per_campaign: dict[int, int] = defaultdict(int)
    for group in groups:
        sent_per_campaign[group["campaign_id"]] += group["sent"]
    if sent_from is not None or sent_to is not None:
        # A campaign's cost is shared among all it was sent to, not only those in the dates.
        sent_per_campaign.update(_sent_counts(list(sent_per_campaign)))
    for group in groups:
        campaign = campaigns_by_id[group["campaign_id"]]
        key = (campaign.channel, group["value_segment"] or NO_SEGMENT)
        cell = matrix.cells.setdefault(key, Figures())
        share = campaign_cost(campaign) * group["sent"] / sent_per_campaign[campaign.pk]
        cell.sent += group["sent"]
        cell.conversions += group["conversions"]
        cell.manual_conversions += group["manual_conversions"]
        cell.unconverted += group["unconverted"]
        cell.revenue += _money(group["revenue"])
        cell.cost += share
    return matrix


def _grouped(
    run, days: int, campaign_ids: list[int], sent_from: date | None, sent_to: date | None
) -> list[dict]:
    """Per campaign and segment: the sent recipients' figures."""
    recipients = CampaignRecipient.objects.filter(
        campaign_id__in=campaign_ids, status__in=SENT_STATUSES
    )
    if sent_from is not None:
        recipients = recipients.filter(sent_at__gte=start_of_day(sent_from))
    if sent_to is not None:
        recipients = recipients.filter(sent_at__lt=start_of_day(sent_to + timedelta(days=1)))
    recipients = with_window(recipients, days).annotate(value_segment=_segment_expression(run))
    return tally(recipients, ("campaign_id", "value_segment"))


def _sent_counts(campaign_ids: list[int]) -> dict[int, int]:
    rows = (
        CampaignRecipient.objects.filter(campaign_id__in=campaign_ids, status__in=SENT_STATUSES)
        .values_list("campaign_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _segment_expression(run):
    """The segment stored at send time, else the customer's segment in `run`."""
    stored = NullIf("segment", Value(""))
    if run is None:
        return stored
    current = CustomerValue.objects.filter(run=run, customer_id=OuterRef("customer_id"))
    return Coalesce(stored, Subquery(current.values("segment")[:1]))


def matrix_table(matrix: Matrix) -> Table:
    channel_labels = dict(CampaignChannel.choices)
    segment_labels = dict(matrix.segments())
    rows = [
        {
            "channel": str(channel_labels[channel]),
            "segment": str(segment_labels[segment]),
            **figures.as_row(),
        }
        for (channel, segment), figures in sorted(matrix.cells.items())
    ]
    columns = [
        Col("channel", _("Channel")),
        Col("segment", _("Segment")),
        Col("sent", _("Recipients"), "int"),
        Col("cost", _("Cost"), "money"),
        Col("conversions", _("Conversions"), "int"),
        Col("conversion_rate", _("Conversion rate"), "percent"),
        Col("revenue", _("Attributed revenue"), "money"),
        Col("roi", _("ROI"), "percent"),
    ]
    return Table(
        name="matrix",
        title=_("Channel × segment"),
        columns=columns,
        rows=rows,
        empty=_("No campaign has been sent yet."),
    )
