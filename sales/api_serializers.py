"""The sales API's serializers (sales/api.py): explicit fields, ids as integers, money as
strings beside its currency. Input serializers only check types and sizes; the rules stay
in the app's forms and services, which the views call with the checked values."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import ApiModelSerializer
from crm.lib.currencies import normalize_currency
from crm.lib.money import MONEY_MAX
from crm.lib.params import MAX_ID
from sales.models import Deal, Order, OrderLine, Product, Quote, QuoteLine
from sales.quote_forms import MAX_LINES


def _ascii_number(data: Any) -> None:
    """Numbers in ASCII only: Python reads "١٢" as 12, which no client means to send."""
    if isinstance(data, str) and not data.isascii():
        raise serializers.ValidationError(
            "Write numbers and dates in ASCII digits.", code="invalid"
        )


class AsciiIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        _ascii_number(data)
        return super().to_internal_value(data)


class AsciiDecimalField(serializers.DecimalField):
    def to_internal_value(self, data: Any) -> Decimal:
        _ascii_number(data)
        return super().to_internal_value(data)


class AsciiDateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> Any:
        _ascii_number(value)
        return super().to_internal_value(value)


class AsciiDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> Any:
        _ascii_number(value)
        return super().to_internal_value(value)


class CurrencyField(serializers.CharField):
    """An ISO 4217 code in use (crm.lib.currencies), as the forms and the import accept it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=3, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return normalize_currency(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages, code="invalid") from error


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A row id: at most MAX_ID, so no lookup overflows the database's bigint."""
    return AsciiIntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def money_field(**kwargs: Any) -> serializers.DecimalField:
    return AsciiDecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), max_value=MONEY_MAX, **kwargs
    )


def percent_field(**kwargs: Any) -> serializers.DecimalField:
    return AsciiDecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), **kwargs
    )


class ProductSerializer(ApiModelSerializer):
    unit_price = money_field()
    tax_rate = percent_field(required=False)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "unit_price", "tax_rate", "is_active"]


class DealSerializer(ApiModelSerializer):
    is_stale = serializers.BooleanField(read_only=True, default=False)
    weighted_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id", "title", "customer", "contact", "amount", "currency", "weighted_amount",
            "pipeline", "stage", "probability", "expected_close_date", "owner", "next_step",
            "status", "lost_reason", "closed_at", "last_activity_at", "is_stale", "version",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class DealWriteSerializer(serializers.Serializer):
    """A new deal's fields, or a PATCH's (every field optional there); the deal form
    (sales.forms.DealForm) applies the page's rules to them."""

    customer = id_field(help_text="Required to create; a deal keeps its customer.")
    title = serializers.CharField(max_length=200)
    amount = money_field()
    currency = CurrencyField(required=False)
    stage = id_field(
        required=False,
        help_text="An open stage of the default pipeline; the first one if left out.",
    )
    probability = AsciiIntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    expected_close_date = AsciiDateField()
    owner = id_field(required=False, help_text="The caller if left out.")
    contact = id_field(required=False, allow_null=True)
    next_step = id_field(
        required=False, allow_null=True, help_text="PATCH only: one of the customer's open tasks."
    )


class DealMoveSerializer(serializers.Serializer):
    stage = id_field()
    lost_reason = serializers.CharField(max_length=300, required=False, default="")


class DealLoseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class QuoteLineSerializer(ApiModelSerializer):
    net_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    tax_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = QuoteLine
        fields = [
            "id", "position", "product", "description", "quantity", "unit_price",
            "discount_percent", "tax_rate", "net_amount", "tax_amount", "total",
        ]  # fmt: skip
        read_only_fields = fields


class QuoteSerializer(ApiModelSerializer):
    lines = QuoteLineSerializer(many=True, read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id", "number", "deal", "status", "valid_until", "currency", "notes", "created_by",
            "created_at", "version", "lines",
        ]  # fmt: skip
        read_only_fields = fields


class OrderLineSerializer(ApiModelSerializer):
    product_sku = serializers.SerializerMethodField()
    net_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    tax_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "id", "product", "product_sku", "description", "quantity", "unit_price",
            "discount_percent", "tax_rate", "net_amount", "tax_amount", "total",
        ]  # fmt: skip
        read_only_fields = fields

    def get_product_sku(self, line: OrderLine) -> str | None:
        return line.product.sku if line.product is not None else None


class OrderSerializer(ApiModelSerializer):
    order_number = serializers.CharField(source="number", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "order_number", "customer", "ordered_at", "channel", "total", "currency",
            "coupon_code", "deal", "quote", "created_at", "lines",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema_field(
    {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 50}]}
)
class ProductRefField(serializers.Field):
    """A product by id (a JSON integer) or by SKU (a JSON string)."""

    default_error_messages = {"invalid": "Give the product's id (a number) or SKU (a string)."}

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int):
            return id_field().run_validation(data)
        return serializers.CharField(max_length=50).run_validation(data)

    def to_representation(self, value: Any) -> Any:
        return value


class OrderLineInputSerializer(serializers.Serializer):
    product = ProductRefField(required=False, allow_null=True)
    description = serializers.CharField(
        max_length=300, required=False, help_text="The product's name if left out."
    )
    quantity = AsciiDecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    unit_price = money_field(required=False, help_text="The product's price if left out.")
    discount_percent = percent_field(required=False, default=Decimal("0"))
    tax_rate = percent_field(required=False, help_text="The product's tax rate if left out.")


class OrderCreateSerializer(serializers.Serializer):
    customer = id_field(required=False, help_text="The customer's id, or customer_external_id.")
    customer_external_id = serializers.CharField(max_length=100, required=False)
    order_number = serializers.CharField(
        max_length=50,
        required=False,
        help_text="Your system's number: posting it again replaces that order (200). "
        "Left out, the CRM numbers a new order.",
    )
    ordered_at = AsciiDateTimeField()
    channel = serializers.ChoiceField(choices=Order.Channel.choices, default=Order.Channel.WEB)
    currency = CurrencyField(required=False)
    coupon_code = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    lines = OrderLineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("customer" in attrs) == ("customer_external_id" in attrs):
            raise serializers.ValidationError(
                {"customer": ["Give either customer or customer_external_id."]}
            )
        return attrs


class ForecastRowSerializer(serializers.Serializer):
    won = serializers.DecimalField(max_digits=20, decimal_places=2)
    committed = serializers.DecimalField(max_digits=20, decimal_places=2)
    best_case = serializers.DecimalField(max_digits=20, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=20, decimal_places=2)
    open_deals = serializers.IntegerField()


class ForecastMonthSerializer(ForecastRowSerializer):
    month = serializers.DateField(source="key")


class ForecastOwnerSerializer(ForecastRowSerializer):
    owner = serializers.CharField(source="key.username", help_text="The rep's login.")
    owner_name = serializers.CharField(
        source="key.name", help_text="The rep's full name, or the login when there is none."
    )


class ForecastSerializer(serializers.Serializer):
    start = serializers.DateField()
    months = serializers.IntegerField()
    currency = serializers.CharField()
    commit_probability = serializers.IntegerField()
    by_month = ForecastMonthSerializer(many=True)
    by_owner = ForecastOwnerSerializer(many=True)
    unconverted = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=2),
        help_text="Amounts left out for want of an exchange rate, per currency (ISO 4217).",
    )
