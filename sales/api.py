"""The sales app's REST API: products, deals (with move, win and lose), quotes, orders and
the forecast, over the app's selectors, forms and services (core/api.py has the shared
parts; integrations/api_urls.py mounts them under /api/v1/). Each endpoint sees what the
matching page shows: a rep their own deals, quotes and customers' orders, a manager all."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import etag_response, expected_version, idempotent
from core.api_router import ApiRouter
from customers.selectors import can_work_customer, customers_visible_to
from sales import api_serializers as s
from sales.api_base import PROBLEMS, WRITE_PROBLEMS, BoundedLookupMixin, form_errors
from sales.api_orders import OrderViewSet
from sales.filters import DealFilter
from sales.forms import DealForm, LoseForm
from sales.models import Deal, Product, Quote, Stage
from sales.product_services import product_save
from sales.selectors import (
    can_change_deal,
    deal_owner_choices,
    deal_scope,
    deals_visible_to,
    default_pipeline,
    forecast,
    quotes_visible_to,
    with_stale_flag,
)
from sales.services import DealRuleError, deal_create, deal_drop, deal_lose, deal_update, deal_win
from sales.views.forecast import ForecastForm


@contextmanager
def deal_rules(field: str = "non_field_errors") -> Iterator[None]:
    """A deal rule the service refused (a closed deal moved, no lost stage…) answers 400."""
    try:
        yield
    except DealRuleError as error:
        raise exceptions.ValidationError({field: [str(error)]}) from error


@extend_schema(responses={200: s.ProductSerializer, **PROBLEMS})
class ProductViewSet(
    BoundedLookupMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The product catalogue: everyone in sales reads it; managers add and change products."""

    queryset = Product.objects.all()
    serializer_class = s.ProductSerializer
    filterset_fields = ["is_active"]
    ordering_fields = ["id", "name", "sku", "unit_price"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(responses={201: s.ProductSerializer, **PROBLEMS})
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: s.ProductSerializer) -> None:
        serializer.instance = product_save(**serializer.validated_data)

    def perform_update(self, serializer: s.ProductSerializer) -> None:
        product = serializer.instance
        fields = {name: getattr(product, name) for name in ("sku", "name", "unit_price")}
        fields |= {"tax_rate": product.tax_rate, "is_active": product.is_active}
        serializer.instance = product_save(product=product, **fields | serializer.validated_data)


class DealApiFilter(DealFilter):
    """The deal list page's filters; the API sorts with `ordering`, not the page's `sort`."""

    sort = None  # type: ignore[assignment]


_DEAL_FORM_FIELDS = DealForm.Meta.fields


def _deal_form_data(values: dict[str, Any]) -> dict[str, Any]:
    """The deal form's input from checked API values (None is an empty field)."""
    return {name: "" if value is None else value for name, value in values.items()}


class DealViewSet(
    BoundedLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Deals as the deal list and deal page show them; writes go through the deal form and
    the services, so the rules (stages of the pipeline, owners one may assign, closed deals
    change only by win and lose) are the page's. Responses carry the deal's `ETag`; send it
    back in `If-Match` to change the deal only if nobody else did meanwhile (412 if so)."""

    queryset = Deal.objects.none()  # the model, for the role's permissions
    serializer_class = s.DealSerializer
    filterset_class = DealApiFilter
    ordering_fields = ["id", "expected_close_date", "amount", "title", "created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Deal]:
        if getattr(self, "swagger_fake_view", False):
            return Deal.objects.none()
        return with_stale_flag(deals_visible_to(self.request.user))

    def _answer(self, deal: Deal, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=deal.pk)
        return etag_response(Response(s.DealSerializer(fresh).data, status=code), fresh)

    def _changeable(self) -> Deal:
        deal = self.get_object()
        if not can_change_deal(self.request.user, deal):
            raise PermissionDenied
        return deal

    @extend_schema(responses={200: s.DealSerializer, **PROBLEMS})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deal = self.get_object()
        return etag_response(Response(s.DealSerializer(deal).data), deal)

    @extend_schema(request=s.DealWriteSerializer, responses={201: s.DealSerializer, **PROBLEMS})
    @idempotent
    def create(self, request: Request) -> Response:
        checked = s.DealWriteSerializer(data=request.data)
        checked.is_valid(raise_exception=True)
        values = dict(checked.validated_data)
        customer = customers_visible_to(request.user).filter(pk=values.pop("customer")).first()
        if customer is None:
            raise exceptions.ValidationError({"customer": ["No customer you may see has this id."]})
        if not can_work_customer(request.user, customer):
            raise PermissionDenied
        pipeline = default_pipeline()
        first_stage = (
            pipeline.stages.filter(is_won=False, is_lost=False).first() if pipeline else None
        )
        values.pop("next_step", None)
        defaults = {
            "currency": Deal().currency,
            "owner": request.user.pk,
            "stage": getattr(first_stage, "pk", None),
        }
        form = DealForm(
            _deal_form_data(defaults | values),
            customer=customer,
            pipeline=pipeline,
            owners=deal_owner_choices(request.user),
        )
        if not form.is_valid():
            raise form_errors(form)
        fields = {name: form.cleaned_data[name] for name in _DEAL_FORM_FIELDS}
        deal = deal_create(customer=customer, created_by=request.user, **fields)
        return self._answer(deal, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.DealWriteSerializer, responses={200: s.DealSerializer, **WRITE_PROBLEMS}
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deal = self._changeable()
        version = expected_version(request, deal)
        checked = s.DealWriteSerializer(data=request.data, partial=True)
        checked.is_valid(raise_exception=True)
        values = dict(checked.validated_data)
        if values.pop("customer", deal.customer_id) != deal.customer_id:
            raise exceptions.ValidationError({"customer": ["A deal keeps its customer."]})
        current = {
            name: getattr(deal, f"{name}_id" if name in ("stage", "owner", "contact") else name)
            for name in _DEAL_FORM_FIELDS
        } | {"next_step": deal.next_step_id}
        if "stage" in values and "probability" not in values:
            values["probability"] = None  # a new stage brings its probability, as on the page
        form = DealForm(
            _deal_form_data(current | values),
            instance=deal,
            customer=deal.customer,
            pipeline=deal.pipeline,
            owners=deal_owner_choices(request.user, current=deal.owner),
        )
        if not form.is_valid():
            raise form_errors(form)
        fields = {name: form.cleaned_data[name] for name in _DEAL_FORM_FIELDS}
        with deal_rules("stage"):
            deal = deal_update(
                deal=deal,
                expected_version=version,
                updated_by=request.user,
                next_step=form.cleaned_data["next_step"],
                **fields,
            )
        return self._answer(deal)

    @extend_schema(
        request=s.DealMoveSerializer, responses={200: s.DealSerializer, **WRITE_PROBLEMS}
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Put the deal in a stage, as dropping its card on the board does: the won stage
        wins it, a lost stage needs `lost_reason`."""
        deal = self._changeable()
        version = expected_version(request, deal)
        checked = s.DealMoveSerializer(data=request.data)
        checked.is_valid(raise_exception=True)
        stage = Stage.objects.filter(pk=checked.validated_data["stage"]).first()
        if stage is None:
            raise exceptions.ValidationError({"stage": ["That stage does not exist."]})
        with deal_rules("stage"):
            deal = deal_drop(
                deal=deal,
                stage=stage,
                moved_by=request.user,
                expected_version=version,
                reason=checked.validated_data["lost_reason"],
            )
        return self._answer(deal)

    @extend_schema(request=None, responses={200: s.DealSerializer, **WRITE_PROBLEMS})
    @action(detail=True, methods=["post"])
    @idempotent
    def win(self, request: Request, pk: str | None = None) -> Response:
        """Won: the deal goes to the won stage; its accepted quote becomes an order."""
        deal = self._changeable()
        version = expected_version(request, deal)
        with deal_rules():
            deal = deal_win(deal=deal, won_by=request.user, expected_version=version)
        return self._answer(deal)

    @extend_schema(
        request=s.DealLoseSerializer, responses={200: s.DealSerializer, **WRITE_PROBLEMS}
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def lose(self, request: Request, pk: str | None = None) -> Response:
        deal = self._changeable()
        version = expected_version(request, deal)
        checked = s.DealLoseSerializer(data=request.data)
        checked.is_valid(raise_exception=True)
        form = LoseForm({"reason": checked.validated_data["reason"]})
        if not form.is_valid():
            raise form_errors(form)
        with deal_rules("reason"):
            deal = deal_lose(
                deal=deal,
                reason=form.cleaned_data["reason"],
                lost_by=request.user,
                expected_version=version,
            )
        return self._answer(deal)


@extend_schema(responses={200: s.QuoteSerializer, **PROBLEMS})
class QuoteViewSet(BoundedLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Quotes with their lines: those of the deals the user sees."""

    queryset = Quote.objects.none()
    serializer_class = s.QuoteSerializer
    ordering_fields = ["id", "created_at", "valid_until"]

    def get_queryset(self) -> QuerySet[Quote]:
        if getattr(self, "swagger_fake_view", False):
            return Quote.objects.none()
        return quotes_visible_to(self.request.user).prefetch_related("lines")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        quote = self.get_object()
        return etag_response(Response(s.QuoteSerializer(quote).data), quote)


class ForecastView(APIView):
    """The forecast page's figures: the pipeline the user sees (a rep their own), per month
    of expected close and per owner."""

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="First month, YYYY-MM (this month)."),
            OpenApiParameter("months", int, enum=[3, 6, 12, 24], description="6 if left out."),
            OpenApiParameter("owner", int, description="Only this owner's deals."),
        ],
        responses={200: s.ForecastSerializer, **PROBLEMS},
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("sales.view_deal"):
            raise PermissionDenied
        form = ForecastForm(request.query_params or None)
        if form.is_bound and not form.is_valid():
            raise form_errors(form)
        data = form.cleaned_data if form.is_bound else {}
        start = (data.get("start") or timezone.localdate()).replace(day=1)
        months = data.get("months") or 6
        scope = deal_scope(request.user)
        if data.get("owner"):
            scope = scope.owned_by(data["owner"])
        options = {"commit_probability": settings.CRM_COMMIT_PROBABILITY}
        result = forecast(scope, start=start, months=months, **options)
        body = {
            "start": start,
            "months": months,
            "currency": settings.CRM_CURRENCY,
            "by_month": result.by_month,
            "by_owner": result.by_owner,
            "unconverted": result.missing,
        } | options
        return Response(s.ForecastSerializer(body).data)


def register(router: ApiRouter) -> None:
    """Add this app's viewsets and the forecast to /api/v1/."""
    router.register("products", ProductViewSet, basename="product")
    router.register("deals", DealViewSet, basename="deal")
    router.register("quotes", QuoteViewSet, basename="quote")
    router.register("orders", OrderViewSet, basename="order")
    router.add_path(path("forecast/", ForecastView.as_view(), name="forecast"))
