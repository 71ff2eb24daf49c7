"""The new-deal page when every pipeline has been deleted (default_pipeline() is None)."""

import pytest
from django.urls import reverse

from sales.models import Deal, Pipeline
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_new_deal_page_without_any_pipeline_shows_the_form_and_refuses_the_post(rep, rep_client):
    Pipeline.objects.all().delete()
    customer = CustomerFactory(owner=rep)
    url = reverse("sales:deal-create") + f"?customer={customer.pk}"

    assert rep_client.get(url).status_code == 200
    response = rep_client.post(
        url,
        {
            "title": "Fleet renewal",
            "amount": "100.00",
            "currency": "usd",
            "expected_close_date": "2026-12-15",
            "owner": str(rep.pk),
            "customer": customer.pk,
        },
    )
    assert response.status_code == 200 and "stage" in response.context["form"].errors
    assert not Deal.objects.exists()
