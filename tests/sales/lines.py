"""Line items as the sales services take them, and as the order and quote forms post them."""

from decimal import Decimal


def line(description="Widget", quantity="1", unit_price="100.00", discount="0", tax="0", **extra):
    """A line as order_create and quote_create take it."""
    return {
        "description": description,
        "quantity": Decimal(quantity),
        "unit_price": Decimal(unit_price),
        "discount_percent": Decimal(discount),
        "tax_rate": Decimal(tax),
        **extra,
    }


def form_line(description="Widget", quantity="1", unit_price="100.00", discount="0", tax="0"):
    """A line as the line formset posts it."""
    return {
        "product": "",
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_percent": discount,
        "tax_rate": tax,
    }


def line_formset_data(lines: list[dict], prefix: str = "lines") -> dict[str, str]:
    """The management form and the posted fields of `lines` (from form_line)."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(lines)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "1",
        f"{prefix}-MAX_NUM_FORMS": "100",
    }
    for index, values in enumerate(lines):
        for key, value in values.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data
