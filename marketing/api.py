"""The marketing app's REST API: campaigns and their results, read only (core/api.py has the
shared parts; integrations/api_urls.py mounts them under /api/v1/).

The same rules as the pages: campaigns come from `campaigns_visible_to` (marketers and
managers work them, reps read them, agents get nothing), filtered by the campaign list's
FilterSet, and a campaign's results are computed by marketing.reports.campaign_figures,
the function behind the report on the campaign page, so the API and the page always show
the same numbers, opens and clicks (counted per recipient: marketing.tracking) included.
"""

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ApiModelSerializer, etag_response
from core.api_router import ApiRouter
from marketing.filters import CampaignFilter
from marketing.models import Campaign, CampaignRecipient
from marketing.reports import campaign_figures
from marketing.selectors import campaigns_visible_to

RATIO = {"max_digits": None, "decimal_places": 6, "allow_null": True}
MONEY = {"max_digits": 16, "decimal_places": 2}


class CampaignApiFilter(CampaignFilter):
    """The campaign list's filters; its `sort` is left out (the API orders with `ordering`
    under cursor pagination)."""


del CampaignApiFilter.base_filters["sort"]  # this class's own copy; the list page keeps it


class CampaignSerializer(ApiModelSerializer):
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "objective",
            "channel",
            "status",
            "owner",
            "audience",
            "budget",
            "actual_cost",
            "currency",
            "starts_on",
            "ends_on",
            "subject",
            "body",
            "offer",
            "coupon_prefix",
            "attribution_days",
            "send_at",
            "send_started_at",
            "send_finished_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_currency(self, campaign: Campaign) -> str:
        return settings.CRM_CURRENCY


class RecipientCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    bounced = serializers.IntegerField()


class CampaignResultsSerializer(serializers.Serializer):
    """The campaign report's figures (marketing.reports): ratios as fractions (0.25 is 25%),
    null where they would divide by zero; cost is the actual cost, else the budget."""

    campaign = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    bounced = serializers.IntegerField()
    bounce_rate = serializers.DecimalField(**RATIO)
    opened = serializers.IntegerField(help_text="Recipients who opened the email at least once.")
    open_rate = serializers.DecimalField(**RATIO)
    clicked = serializers.IntegerField(help_text="Recipients who clicked a link at least once.")
    click_rate = serializers.DecimalField(**RATIO)
    responses = serializers.IntegerField()
    conversions = serializers.IntegerField()
    manual_conversions = serializers.IntegerField(
        help_text="Of the conversions, those recorded by hand (outcome 'converted') without "
        "an attributed order."
    )
    conversion_rate = serializers.DecimalField(**RATIO)
    revenue = serializers.DecimalField(**MONEY)
    cost = serializers.DecimalField(**MONEY)
    cost_is_budget = serializers.BooleanField()
    cost_per_conversion = serializers.DecimalField(**MONEY, allow_null=True)
    roi = serializers.DecimalField(**RATIO)
    currency = serializers.CharField()
    attribution_days = serializers.IntegerField()
    recipients = RecipientCountsSerializer()


def campaign_results(campaign: Campaign) -> dict[str, Any]:
    figures = campaign_figures(campaign)
    statuses = dict(
        CampaignRecipient.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "campaign": campaign.pk,
        **figures.as_row(),
        "cost_is_budget": not campaign.actual_cost,
        "currency": settings.CRM_CURRENCY,
        "attribution_days": campaign.attribution_days,
        "recipients": {s.value: statuses.get(s.value, 0) for s in CampaignRecipient.Status},
    }


@extend_schema_view(
    list=extend_schema(summary="Campaigns (the campaign list's filters)"),
    retrieve=extend_schema(summary="A campaign"),
)
class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignSerializer
    filterset_class = CampaignApiFilter
    ordering_fields = ["created_at", "name", "starts_on", "id"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Campaign]:
        return campaigns_visible_to(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        campaign = self.get_object()
        return etag_response(Response(self.get_serializer(campaign).data), campaign)

    @extend_schema(
        summary="The campaign's results: sent, conversions, revenue, cost and ROI",
        responses={200: CampaignResultsSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def results(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        return Response(CampaignResultsSerializer(campaign_results(campaign)).data)


def register(router: ApiRouter) -> None:
    """Add this app's viewsets to /api/v1/."""
    router.register("campaigns", CampaignViewSet, basename="campaign")
