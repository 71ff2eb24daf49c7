"""CSV export of customers (import lives beside it)."""

import csv

from django.contrib.auth.decorators import permission_required
from django.http import StreamingHttpResponse
from django.utils import timezone

from customers.csv_format import COLUMNS, customer_row
from customers.filters import CustomerFilter
from customers.selectors import customers_visible_to


class _Echo:
    def write(self, value):
        return value


def export_response(customers) -> StreamingHttpResponse:
    """Stream the customers as CSV without loading them all into memory."""
    writer = csv.writer(_Echo())
    rows = (
        customers.select_related("owner")
        .prefetch_related("tags")
        .order_by("pk")
        .iterator(chunk_size=2000)
    )

    def lines():
        yield "\ufeff"  # lets spreadsheet programs read UTF-8 (Chinese names) correctly
        yield writer.writerow(COLUMNS)
        for customer in rows:
            yield writer.writerow(customer_row(customer))

    filename = f"customers-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@permission_required("customers.export_customers", raise_exception=True)
def customer_export(request):
    """Export exactly what the list shows for the current filters."""
    customer_filter = CustomerFilter(
        request.GET, queryset=customers_visible_to(request.user), request=request
    )
    return export_response(customer_filter.qs)
