"""crm.lib.params, and the pages whose hand-parsed parameters answered 500."""

import pytest
from django.urls import reverse

from crm.lib.params import MAX_ID, IdField, is_valid_id, parse_id, query_param, search_text
from tests.factories import CampaignFactory, CustomerFactory, DealFactory, TagFactory

NOT_IDS = ["²", "Ⅻ", "١٢", "９", "1e5", "-1", "0", "1.0", " ", "a\x00b", "x" * 3000, "9" * 5000]


@pytest.mark.parametrize("raw", NOT_IDS + [str(MAX_ID + 1), str(10**30)])
def test_anything_but_ascii_digits_in_the_bigint_range_is_not_an_id(raw):
    assert not is_valid_id(raw)
    assert parse_id(raw) is None
    assert query_param({"id": raw}, "id", IdField()) is None


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("0042", 42), (str(MAX_ID), MAX_ID)])
def test_ascii_digits_are_an_id(raw, expected):
    assert parse_id(raw) == expected
    assert query_param({"id": raw}, "id", IdField()) == expected


def test_a_missing_parameter_is_none():
    assert parse_id(None) is None
    assert query_param({}, "id", IdField()) is None


def test_search_text_is_cut_and_loses_nul_bytes():
    assert search_text({"q": "a\x00b" + "x" * 3000}) == "ab" + "x" * 197
    assert search_text({}) == ""


# Each of these answered 500 before the parameter went through crm.lib.params.
@pytest.mark.django_db
def test_help_centre_ignores_a_superscript_category(client):
    response = client.get(reverse("help:home"), {"category": "²"})
    assert response.status_code == 200
    assert response.context["category"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["pipeline", "owner"])
def test_board_ignores_a_superscript_pipeline_or_owner(manager_client, param):
    response = manager_client.get(reverse("sales:board"), {param: "²"})
    assert response.status_code == 200
    assert response.context["pipeline"].is_default
    assert response.context["owner"] == "all"


@pytest.mark.django_db
def test_new_deal_with_a_superscript_customer_sends_back_to_the_customers(rep_client):
    response = rep_client.get(reverse("sales:deal-create"), {"customer": "²"})
    assert response.status_code == 302
    assert response.url == reverse("customers:customer-list")


@pytest.mark.django_db
def test_campaign_preview_of_a_superscript_customer_is_not_found(marketer, marketer_client):
    campaign = CampaignFactory(owner=marketer)
    url = reverse("marketing:campaign-preview", args=[campaign.pk])
    assert marketer_client.get(url, {"customer": "²"}).status_code == 404


@pytest.mark.django_db
def test_customer_list_ignores_a_tag_id_no_database_holds(manager_client):
    CustomerFactory(name="Acme")
    TagFactory()
    response = manager_client.get(reverse("customers:customer-list"), {"tags": str(10**30)})
    assert response.status_code == 200
    assert "tags" in response.context["filter"].errors


@pytest.mark.django_db
def test_audience_preview_refuses_a_tag_id_no_database_holds(marketer_client):
    response = marketer_client.post(
        reverse("marketing:audience-preview"), {"channel": "email", "tags": str(10**30)}
    )
    assert response.status_code == 200
    assert response.context["errors"]


@pytest.mark.django_db
def test_order_entry_does_not_read_arabic_indic_digits_as_a_customer(manager_client):
    customer = CustomerFactory()
    eastern = str(customer.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = manager_client.get(reverse("sales:order-create"), {"customer": eastern})
    assert response.status_code == 200
    assert "customer" not in response.context  # the customer picker, not the order form


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("sales:deal-move", {"stage": "²"}),
        ("sales:deal-win", {"version": "²"}),
    ],
)
def test_deal_actions_refuse_a_superscript_stage_or_version(rep, rep_client, name, data):
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep))
    response = rep_client.post(reverse(name, args=[deal.pk]), data)
    # A version that is not one counts as missing, which the shared version check of
    # issue 11 turns into a conflict; here only the 500 is the bug. The win asks for the
    # final amount on a page of its own, which shows the version's error (422).
    assert response.status_code in (302, 400, 409, 422)
    if "stage" in data:
        assert response.status_code == 400
        deal.refresh_from_db()
        assert deal.version == 1
