"""The analytics app's REST API: each customer's segment, scores and value in the current
run, the whole run for a data warehouse, and the runs with the current one's summary
(core/api.py has the shared parts; integrations/api_urls.py mounts them under /api/v1/).

Only stored results are read, as the dashboards do (analytics.selectors, analytics.reports):
nothing is recomputed. The same rules as the pages: the values need the segments
permission of the 360° page's value panel (analytics.view_customervalue), a customer the
user cannot see is a 404 (customers.selectors), and money (revenue, average order value,
predicted value) follows customers.selectors.may_see_customer_money, so a rep gets it only
for the customers they own; the segment summary's money needs the value report, as on the
segments dashboard.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import reports, selectors
from analytics.models import CustomerValue, Segment, SegmentRun
from analytics.panels import current_run_id
from core.api import ApiCursorPagination, ApiModelSerializer
from core.api_router import ApiRouter
from crm.lib.params import MAX_ID
from customers.selectors import customers_visible_to, may_see_customer_money

SEGMENTS_PERMISSION = "analytics.view_customervalue"
VALUE_REPORT_PERMISSION = "analytics.view_value_report"
MONEY_FIELDS = ("revenue", "average_order_value", "predicted_ltv")
_VALUE_FIELDS = [
    "first_purchase",
    "last_purchase",
    "recency_days",
    "purchase_days",
    "orders",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "probability_alive",
    "expected_purchases",
    *MONEY_FIELDS,
]


class CustomerValueSerializer(serializers.Serializer):
    """A customer's values in the current run; the money fields are null when the user may
    not see this customer's money (`money_visible` false), everything but `customer` null
    when there is no run yet or the customer had no orders up to it."""

    customer = serializers.IntegerField()
    run = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateField(allow_null=True)
    segment = serializers.ChoiceField(choices=Segment.choices, allow_null=True)
    segment_label = serializers.CharField(allow_null=True)
    r_score = serializers.IntegerField(allow_null=True, min_value=1, max_value=5)
    f_score = serializers.IntegerField(allow_null=True, min_value=1, max_value=5)
    m_score = serializers.IntegerField(allow_null=True, min_value=1, max_value=5)
    recency_days = serializers.IntegerField(allow_null=True)
    purchase_days = serializers.IntegerField(allow_null=True)
    orders = serializers.IntegerField(allow_null=True)
    first_purchase = serializers.DateField(allow_null=True)
    last_purchase = serializers.DateField(allow_null=True)
    probability_alive = serializers.FloatField(allow_null=True)
    expected_purchases = serializers.FloatField(allow_null=True)
    money_visible = serializers.BooleanField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    average_order_value = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    predicted_ltv = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    currency = serializers.CharField()


def value_row(
    customer_id: int, value: CustomerValue | None, run: SegmentRun | None, with_money: bool
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CustomerValueSerializer().fields)
    row |= {
        "customer": customer_id,
        "money_visible": with_money,
        "currency": settings.CRM_CURRENCY,
    }
    if run is not None:
        row |= {"run": run.pk, "as_of": run.as_of}
    if value is not None:
        row |= {name: getattr(value, name) for name in _VALUE_FIELDS}
        row["segment_label"] = str(value.get_segment_display())
        if not with_money:
            row |= dict.fromkeys(MONEY_FIELDS)
    return row


def _require(user: User | AnonymousUser, permission: str) -> None:
    if not user.has_perm(permission):
        raise exceptions.PermissionDenied()


class CustomerValueView(APIView):
    """GET /customers/{id}/value/: one customer's segment, scores and value."""

    @extend_schema(
        summary="A customer's segment, R/F/M scores, value and probability alive (current run)",
        responses={200: CustomerValueSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        _require(request.user, SEGMENTS_PERMISSION)
        if pk > MAX_ID:
            raise Http404
        customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
        run = selectors.current_run()
        value = selectors.customer_value(customer, run) if run else None
        with_money = may_see_customer_money(request.user, customer)
        return Response(CustomerValueSerializer(value_row(pk, value, run, with_money)).data)


class CustomerValueFilter(filters.FilterSet):
    segment = filters.ChoiceFilter(label=_("Segment"), choices=Segment.choices)

    class Meta:
        model = CustomerValue
        fields = ["segment"]


class CustomerValuePagination(ApiCursorPagination):
    """In customer id order: the (run, customer) and (run, segment, customer) indexes give
    each page in order, however large the run."""

    ordering = "customer_id"
    max_page_size = 1000


class _Rows:
    """A page's rows as the serializer's dicts, built when DRF iterates it."""

    def __init__(self, values: list[CustomerValue], user: User | AnonymousUser) -> None:
        self.values, self.user = values, user

    def rows(self) -> list[dict[str, Any]]:
        return [
            value_row(
                value.customer_id,
                value,
                value.run,
                may_see_customer_money(self.user, value.customer),
            )
            for value in self.values
        ]


@extend_schema_view(
    list=extend_schema(
        summary="Every visible customer's values in the current run (for a data warehouse)",
        responses={200: CustomerValueSerializer(many=True)},
    ),
)
class CustomerValueListViewSet(viewsets.GenericViewSet):
    """GET /customer-values/: the current run, a page at a time in customer order."""

    serializer_class = CustomerValueSerializer
    filterset_class = CustomerValueFilter
    pagination_class = CustomerValuePagination
    ordering_fields = ["customer_id"]
    queryset = CustomerValue.objects.none()  # for ApiAccess: analytics.view_customervalue

    def get_queryset(self) -> QuerySet[CustomerValue]:
        visible = customers_visible_to(self.request.user).values("pk")
        return (
            CustomerValue.objects.filter(run_id=current_run_id(), customer__in=visible)
            .select_related("run", "customer")
            .only(*_VALUE_FIELDS, "run__id", "run__as_of", "customer__id", "customer__owner")
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = _Rows(list(page or []), request.user).rows()
        return self.get_paginated_response(CustomerValueSerializer(rows, many=True).data)


class SegmentRowSerializer(serializers.Serializer):
    segment = serializers.ChoiceField(choices=Segment.choices)
    label = serializers.CharField()
    customers = serializers.IntegerField()
    customer_share = serializers.FloatField()
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    revenue_share = serializers.FloatField(allow_null=True)
    average_ltv = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)


class SegmentRunSerializer(ApiModelSerializer):
    class Meta:
        model = SegmentRun
        fields = [
            "id",
            "as_of",
            "status",
            "is_current",
            "progress",
            "customers",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class SegmentRunSummarySerializer(SegmentRunSerializer):
    """The current run with its segments, as the segments dashboard shows them; revenue and
    value are null without the value report permission (`money_visible` false)."""

    money_visible = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    segments = serializers.SerializerMethodField()

    class Meta(SegmentRunSerializer.Meta):
        fields = [*SegmentRunSerializer.Meta.fields, "money_visible", "currency", "segments"]
        read_only_fields = fields

    def _with_money(self) -> bool:
        return self.context["request"].user.has_perm(VALUE_REPORT_PERMISSION)

    def get_money_visible(self, run: SegmentRun) -> bool:
        return self._with_money()

    def get_currency(self, run: SegmentRun) -> str:
        return settings.CRM_CURRENCY

    @extend_schema_field(SegmentRowSerializer(many=True))
    def get_segments(self, run: SegmentRun) -> list[dict[str, Any]]:
        rows = reports.segment_rows(run)
        if not self._with_money():
            rows = [
                row | dict.fromkeys(("revenue", "revenue_share", "average_ltv")) for row in rows
            ]
        return SegmentRowSerializer(rows, many=True).data


@extend_schema_view(
    list=extend_schema(summary="Segment runs, newest first (status and progress)"),
    retrieve=extend_schema(summary="A segment run"),
)
class SegmentRunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SegmentRunSerializer
    ordering_fields = ["created_at", "as_of", "id"]
    filterset_fields = ["status"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[SegmentRun]:
        return selectors.runs_visible_to(self.request.user)

    @extend_schema(
        summary="The current (published) run with its segment summary",
        responses={200: SegmentRunSummarySerializer},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def current(self, request: Request) -> Response:
        run = self.get_queryset().filter(is_current=True).first()
        if run is None:
            raise exceptions.NotFound(_("No segment run has been published yet."))
        return Response(SegmentRunSummarySerializer(run, context={"request": request}).data)


def register(router: ApiRouter) -> None:
    """Add this app's viewsets to /api/v1/; the customer's value is a path under the
    customers helper's /customers/ (a separate view, not an action of its viewset)."""
    router.register("customer-values", CustomerValueListViewSet, basename="customer-value")
    router.register("segment-runs", SegmentRunViewSet, basename="segment-run")
    router.add_path(
        path("customers/<int:pk>/value/", CustomerValueView.as_view(), name="customer-value-detail")
    )
