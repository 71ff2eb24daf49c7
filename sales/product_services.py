"""Writes of the product catalogue (the admin and the API)."""

from decimal import Decimal

from django.db import transaction

from sales.models import Product


@transaction.atomic
def product_save(
    *,
    product: Product | None = None,
    sku: str,
    name: str,
    unit_price: Decimal,
    tax_rate: Decimal = Decimal("0"),
    is_active: bool = True,
) -> Product:
    """A new product (`product` None) or new values for one, validated by the model."""
    product = product if product is not None else Product()
    product.sku, product.name = sku.strip(), name.strip()
    product.unit_price, product.tax_rate, product.is_active = unit_price, tax_rate, is_active
    product.full_clean()
    product.save()
    return product
