"""The 360° page's "Value and segment" panel."""

from decimal import Decimal

from django.urls import reverse

from analytics.models import Recommendation
from tests.factories import (
    CustomerFactory,
    CustomerValueFactory,
    ProductFactory,
    SegmentRunFactory,
)


def panel(client, customer):
    return client.get(reverse("analytics:customer-value-panel", args=[customer.pk]))


def test_panel_is_shown_on_the_360_page(manager_client, agent_client):
    customer = CustomerFactory()
    panel = 'id="customer-value"'  # rendered inline, in the page's request
    assert panel in manager_client.get(customer.get_absolute_url()).text
    assert panel not in agent_client.get(customer.get_absolute_url()).text


def test_panel_shows_segment_scores_value_and_recommendations(manager_client):
    run = SegmentRunFactory()
    customer = CustomerFactory()
    CustomerValueFactory(run=run, customer=customer, segment="champions", r_score=5,
                         f_score=4, m_score=3, revenue=Decimal("12345.60"), orders=7,
                         average_order_value=Decimal("1763.66"),
                         predicted_ltv=Decimal("2500.00"), probability_alive=0.876)  # fmt: skip
    for rank, name in enumerate(["Tea set", "Kettle"], start=1):
        Recommendation.objects.create(run=run, customer=customer, rank=rank, score=1 / rank,
                                      product=ProductFactory(name=name))  # fmt: skip
    text = panel(manager_client, customer).text
    assert "Champions" in text and "R 5 · F 4 · M 3" in text
    assert "12,345.60" in text and "1,763.66" in text and "2,500.00" in text
    assert "87.6%" in text
    assert text.index("Tea set") < text.index("Kettle")


def test_panel_empty_states(manager_client):
    customer = CustomerFactory()
    assert "No segment run yet." in panel(manager_client, customer).text
    SegmentRunFactory()
    text = panel(manager_client, customer).text
    assert "no segment or value yet" in text


def test_panel_reads_only_the_current_run(manager_client):
    customer = CustomerFactory()
    CustomerValueFactory(run=SegmentRunFactory(is_current=False), customer=customer,
                         segment="lost")  # fmt: skip
    CustomerValueFactory(run=SegmentRunFactory(), customer=customer, segment="loyal")
    text = panel(manager_client, customer).text
    assert "Loyal" in text and "Lost" not in text


def test_panel_query_count_is_small(manager_client, django_assert_max_num_queries):
    run = SegmentRunFactory()
    customer = CustomerFactory()
    CustomerValueFactory(run=run, customer=customer)
    with django_assert_max_num_queries(9):
        assert panel(manager_client, customer).status_code == 200


def test_panel_money_is_in_the_reporting_currency_formatted_per_language(manager_client, settings):
    settings.CRM_CURRENCY = "EUR"
    customer = CustomerFactory()
    CustomerValueFactory(run=SegmentRunFactory(), customer=customer,
                         revenue=Decimal("51230.73"), average_order_value=Decimal("1000"),
                         predicted_ltv=Decimal("2500.5"))  # fmt: skip
    text = panel(manager_client, customer).text
    assert "51,230.73\u00a0EUR" in text and "2,500.50\u00a0EUR" in text
    assert "51230.73" not in text
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "51,230.73\u00a0EUR" in panel(manager_client, customer).text
