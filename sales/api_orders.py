"""Orders in the REST API (registered by sales/api.py): read as the order pages show them,
and posted by other systems (a web shop) through the same service as an order placed in
the app, so it earns loyalty points, redeems its coupon and counts for attribution and the
last-order index alike. An order posted again with its `order_number` is replaced, not
doubled; an `Idempotency-Key` makes a retried POST answer the first response."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import idempotent
from sales import api_serializers as s
from sales.api_base import PROBLEMS, BoundedLookupMixin, form_errors
from sales.importing import _currency_cleaner as currency_cleaner  # the import's rule
from sales.models import Order, Product
from sales.order_filters import OrderFilter
from sales.order_upsert import order_upsert
from sales.quote_forms import OrderForm
from sales.selectors import active_products, order_customers_for, orders_visible_to
from sales.services import order_create


def _customer(user: Any, values: dict[str, Any]) -> Any:
    """The order's customer, among those the user may enter orders for (as on the page)."""
    customers = order_customers_for(user)
    if "customer" in values:
        found = customers.filter(pk=values["customer"]).first()
    else:
        found = customers.filter(external_id=values["customer_external_id"]).first()
    if found is None:
        raise exceptions.ValidationError(
            {"customer": ["No customer you may enter orders for has this id."]}
        )
    return found


def _products(lines: list[dict[str, Any]]) -> dict[int | str, Product]:
    """The lines' products by id and by SKU, in two queries; active ones, as the page offers."""
    refs = [line["product"] for line in lines if line.get("product") is not None]
    ids = [ref for ref in refs if isinstance(ref, int)]
    skus = [ref for ref in refs if isinstance(ref, str)]
    found: dict[int | str, Product] = {}
    if ids:
        found |= {p.pk: p for p in active_products().filter(pk__in=ids)}
    if skus:
        found |= {p.sku: p for p in active_products().filter(sku__in=skus)}
    return found


def _service_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines as the order service takes them; a product fills what the line leaves out
    (its name, price and tax rate), as the page's product picker does."""
    products = _products(lines)
    built: list[dict[str, Any]] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, line in enumerate(lines):
        ref = line.get("product")
        product = products.get(ref) if ref is not None else None
        if ref is not None and product is None:
            errors[index] = {"product": ["No active product has this id or SKU."]}
            continue
        data = {
            "product": product,
            "description": line.get("description") or (product.name if product else ""),
            "quantity": line["quantity"],
            "unit_price": line.get("unit_price", product.unit_price if product else None),
            "discount_percent": line["discount_percent"],
            "tax_rate": line.get("tax_rate", product.tax_rate if product else 0),
        }
        missing = [name for name in ("description", "unit_price") if data[name] in (None, "")]
        if missing:
            errors[index] = {name: ["Required for a line without a product."] for name in missing}
        built.append(data)
    if errors:
        # Keyed by the line's index, as the serializer reports a line's errors.
        raise exceptions.ValidationError({"lines": {str(i): e for i, e in errors.items()}})
    return built


def _renamed(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's errors with the API's names (the order's `number` is `order_number`)."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({"non_field_errors": error.messages})
    return exceptions.ValidationError(
        {
            ("order_number" if name == "number" else name): messages
            for name, messages in error.message_dict.items()
        }
    )


@extend_schema(responses={200: s.OrderSerializer, **PROBLEMS})
class OrderViewSet(
    BoundedLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Orders with their lines: a rep sees their customers' orders, a manager every one."""

    queryset = Order.objects.none()
    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["id", "ordered_at", "total"]

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return orders_visible_to(self.request.user).prefetch_related("lines__product")

    @extend_schema(
        request=s.OrderCreateSerializer,
        responses={201: s.OrderSerializer, 200: s.OrderSerializer, **PROBLEMS},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        checked = s.OrderCreateSerializer(data=request.data)
        checked.is_valid(raise_exception=True)
        values = checked.validated_data
        customer = _customer(request.user, values)
        form = OrderForm(
            {
                "customer": customer.pk,
                "ordered_at": values["ordered_at"],
                "channel": values["channel"],
                "coupon_code": values["coupon_code"],
            },
            customers=order_customers_for(request.user).filter(pk=customer.pk),
        )
        if not form.is_valid():
            raise form_errors(form)
        fields = {
            "customer": customer,
            "ordered_at": form.cleaned_data["ordered_at"],
            "channel": form.cleaned_data["channel"],
            "coupon_code": form.cleaned_data["coupon_code"],
            "currency": self._currency(values.get("currency", "")),
            "lines": _service_lines(values["lines"]),
        }
        try:
            order, created = self._place(request, values.get("order_number", ""), fields)
        except DjangoValidationError as error:
            raise _renamed(error) from error
        fresh = self.get_queryset().get(pk=order.pk)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.OrderSerializer(fresh).data, status=code)

    @staticmethod
    def _currency(value: str) -> str:
        try:
            return currency_cleaner(settings.CRM_CURRENCY)(value.strip())
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"currency": error.messages}) from error

    @staticmethod
    def _place(request: Request, number: str, fields: dict[str, Any]) -> tuple[Order, bool]:
        if not number.strip():
            return order_create(**fields), True
        user = request.user
        replaceable = (
            orders_visible_to(user) if user.has_perm("sales.change_order") else Order.objects.none()
        )
        return order_upsert(number=number.strip(), replaceable=replaceable, **fields)
