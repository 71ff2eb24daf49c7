"""Sales' part of an erasure and of an access download (customers.erasure, crm.lib.personal_data).

Orders keep their numbers, totals, dates and lines, so revenue, segments and reports stay
right; the texts written about the customer go."""

from typing import Any

from django.db import transaction

from core.attachments import attachment_data_files, attachments_delete_of_many
from crm.lib.personal_data import DataFile, mentioning, rows_of, scrub_rows
from sales.models import Deal, Order, OrderImport, OrderLine, Quote, QuoteLine


@transaction.atomic
def sales_erase(*, customer: Any, values: frozenset[str]) -> int:
    deals = Deal.objects.filter(customer=customer)
    rows = scrub_rows(deals, "title", values)
    rows += deals.exclude(lost_reason="").update(lost_reason="")
    quotes = Quote.objects.filter(deal__customer=customer)
    rows += quotes.exclude(notes="").update(notes="")
    rows += scrub_rows(QuoteLine.objects.filter(quote__in=quotes), "description", values)
    rows += scrub_rows(OrderLine.objects.filter(order__customer=customer), "description", values)
    # Deals and quotes stay (reports count them); their files go, whatever they hold.
    rows += attachments_delete_of_many(deals) + attachments_delete_of_many(quotes)
    return rows + order_imports_purge_mentioning(values)


def order_imports_purge_mentioning(values: frozenset[str]) -> int:
    """Stored order files naming the customer (by external id) lose their contents."""
    rows = 0
    for upload in OrderImport.objects.select_for_update().filter(mentioning("text", values)):
        order_import_purge(upload)
        rows += 1
    return rows


def order_import_purge(upload: OrderImport) -> None:
    """Forget an upload's file; one still pending is cancelled."""
    if upload.status == OrderImport.Status.PENDING:
        upload.status = OrderImport.Status.CANCELLED
    upload.text = ""
    upload.save(update_fields=["status", "text"])


def sales_data_of(customer: Any) -> dict[str, Any]:
    deals = Deal.objects.filter(customer=customer)
    quotes = Quote.objects.filter(deal__in=deals)
    orders = Order.objects.filter(customer=customer)
    line = ["product__sku", "description", "quantity", "unit_price", "discount_percent"]
    return {
        "deals": rows_of(
            deals,
            *["id", "title", "amount", "currency", "stage__name", "status", "lost_reason"],
            *["expected_close_date", "created_at", "closed_at", "owner__username"],
        ),
        "quotes": rows_of(
            quotes, "id", "number", "deal_id", "status", "currency", "valid_until", "notes"
        ),
        "quote_lines": rows_of(QuoteLine.objects.filter(quote__in=quotes), "quote_id", *line),
        "orders": rows_of(
            orders, "id", "number", "ordered_at", "channel", "total", "currency", "coupon_code"
        ),
        "order_lines": rows_of(OrderLine.objects.filter(order__in=orders), "order_id", *line),
    }


def sales_files_of(customer: Any) -> list[DataFile]:
    """The files attached to the customer's deals and quotes, for the access download."""
    deals = Deal.objects.filter(customer=customer)
    return [
        *attachment_data_files(deals, "deals"),
        *attachment_data_files(Quote.objects.filter(deal__in=deals), "quotes"),
    ]
