"""Analytics' part of an access download (crm.lib.personal_data).

Analytics holds no personal text: scores, segments and values are numbers keyed by the
customer's id, which an erasure keeps (the customer row stays, anonymous), so segment runs
and the value reports stay right; it has nothing to blank and no `customer_erasing`
receiver. The download still shows what was computed about the customer (profiling)."""

from typing import Any

from analytics.models import CustomerValue, Recommendation
from analytics.selectors import current_run
from crm.lib.personal_data import rows_of


def analytics_data_of(customer: Any) -> dict[str, Any]:
    run = current_run()
    values = CustomerValue.objects.filter(customer=customer, run=run)
    return {
        "segment_and_value": rows_of(
            values,
            *["run__finished_at", "segment", "r_score", "f_score", "m_score", "recency_days"],
            *["orders", "revenue", "probability_alive", "expected_purchases", "predicted_ltv"],
        ),
        "recommended_products": rows_of(
            Recommendation.objects.filter(customer=customer, run=run), "product__sku", "rank"
        ),
    }
