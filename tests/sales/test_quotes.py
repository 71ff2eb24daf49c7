"""Quotes: arithmetic, numbering, status rules, quote → order, pages and access by persona."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sales import services
from sales.models import Deal, Order, Quote
from sales.money import line_net, line_tax, totals
from sales.services import DealRuleError, quote_create, quote_set_status, quote_update
from tests.factories import CustomerFactory, DealFactory, ProductFactory
from tests.sales.lines import form_line, line, line_formset_data

pytestmark = pytest.mark.django_db

D = Decimal


def make_quote(deal, *lines, user=None):
    return quote_create(
        deal=deal,
        valid_until=timezone.localdate() + timedelta(days=30),
        created_by=user or deal.owner,
        lines=list(lines) or [line()],
    )


def post_data(lines, *, valid_until=None, notes="", prefix="lines", **extra):
    return {
        "valid_until": (valid_until or timezone.localdate() + timedelta(days=30)).isoformat(),
        "notes": notes,
        **extra,
        **line_formset_data(lines, prefix),
    }


# --- arithmetic --------------------------------------------------------------------------


def test_line_rounds_half_up_per_line():
    # 3 × 0.335 = 1.005 → 1.01 (half up, not banker's 1.00)
    assert line_net(D("3"), D("0.335"), D("0")) == D("1.01")
    # tax 1.01 × 5% = 0.0505 → 0.05; 0.25 × 10% = 0.025 → 0.03
    assert line_tax(D("1.01"), D("5")) == D("0.05")
    assert line_tax(D("0.25"), D("10")) == D("0.03")


def test_quote_totals_with_discounts_tax_and_several_lines(rep):
    deal = DealFactory(owner=rep)
    quote = make_quote(
        deal,
        line(quantity="2", unit_price="19.99", discount="10", tax="13"),  # 35.98 → 35.982 → 35.98
        line(quantity="1.5", unit_price="33.33", tax="6"),  # 49.995 → 50.00; tax 3.00
        line(quantity="7", unit_price="0.10", discount="100", tax="13"),  # free line
    )
    lines = list(quote.lines.all())
    assert [(x.net_amount, x.tax_amount, x.total) for x in lines] == [
        (D("35.98"), D("4.68"), D("40.66")),  # 35.98 × 13% = 4.6774 → 4.68
        (D("50.00"), D("3.00"), D("53.00")),
        (D("0.00"), D("0.00"), D("0.00")),
    ]
    result = totals(lines)
    assert (result.net, result.tax, result.total) == (D("85.98"), D("7.68"), D("93.66"))
    assert [x.position for x in lines] == [0, 1, 2]


def test_zero_quantity_is_refused(rep):
    deal = DealFactory(owner=rep)
    with pytest.raises(ValidationError):
        make_quote(deal, line(quantity="0"))
    assert not Quote.objects.exists()


def test_huge_amounts_are_refused_with_a_message(rep):
    deal = DealFactory(owner=rep)
    with pytest.raises(ValidationError) as error:
        make_quote(deal, line(quantity="999999999", unit_price="999999999999.99"))
    assert "too large" in " ".join(error.value.messages)
    with pytest.raises(ValidationError):  # each line fits, their sum does not
        make_quote(
            deal,
            line(quantity="1", unit_price="600000000000.00"),
            line(quantity="1", unit_price="600000000000.00"),
        )
    assert not Quote.objects.exists()


def test_a_quote_needs_a_line(rep):
    with pytest.raises(ValidationError):
        quote_create(
            deal=DealFactory(owner=rep),
            valid_until=timezone.localdate(),
            created_by=rep,
            lines=[],
        )


# --- numbering ----------------------------------------------------------------------------


def test_numbers_are_unique_and_sequential(rep):
    deal, other = DealFactory(owner=rep), DealFactory(owner=rep)
    numbers = [make_quote(d).number for d in (deal, other, deal)]
    year = timezone.localdate().year
    assert numbers == [f"Q-{year}-000001", f"Q-{year}-000002", f"Q-{year}-000003"]


# Two sessions saving at once: tests/sales/test_quote_number_race.py (real PostgreSQL sessions).


# --- status rules -------------------------------------------------------------------------


def test_status_moves_and_an_accepted_quote_is_final(rep):
    quote = make_quote(DealFactory(owner=rep))
    quote = quote_set_status(quote=quote, status=Quote.Status.SENT)
    assert quote.status == Quote.Status.SENT
    quote = quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    for status in (Quote.Status.DRAFT, Quote.Status.SENT, Quote.Status.REJECTED):
        with pytest.raises(DealRuleError):
            quote_set_status(quote=quote, status=status)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED


def test_unknown_status_and_second_accepted_quote_are_refused(rep):
    deal = DealFactory(owner=rep)
    quote, other = make_quote(deal), make_quote(deal)
    with pytest.raises(DealRuleError):
        quote_set_status(quote=quote, status="paid")
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    with pytest.raises(DealRuleError):
        quote_set_status(quote=other, status=Quote.Status.ACCEPTED)


def test_rejected_quote_goes_back_to_draft_only(rep):
    quote = make_quote(DealFactory(owner=rep))
    quote_set_status(quote=quote, status=Quote.Status.REJECTED)
    with pytest.raises(DealRuleError):
        quote_set_status(quote=quote, status=Quote.Status.SENT)
    assert quote_set_status(quote=quote, status=Quote.Status.DRAFT).status == "draft"


def test_only_a_draft_can_be_edited_and_lines_are_replaced(rep):
    quote = make_quote(DealFactory(owner=rep), line(), line(description="Second"))
    quote = quote_update(
        quote=quote,
        valid_until=quote.valid_until,
        notes="New terms",
        lines=[line(description="Only", unit_price="5.00")],
        expected_version=quote.version,
    )
    assert [x.description for x in quote.lines.all()] == ["Only"]
    assert quote.notes == "New terms"
    quote_set_status(quote=quote, status=Quote.Status.SENT)
    with pytest.raises(DealRuleError):
        quote_update(
            quote=quote,
            valid_until=quote.valid_until,
            lines=[line()],
            expected_version=Quote.objects.get(pk=quote.pk).version,
        )


# --- quote → order ------------------------------------------------------------------------


def _won_stage(deal):
    return deal.pipeline.stages.get(is_won=True)


def _assert_order_copies(order, quote):
    quote_lines, order_lines = list(quote.lines.all()), list(order.lines.all())
    fields = ("description", "quantity", "unit_price", "discount_percent", "tax_rate")
    assert [[getattr(x, f) for f in fields] for x in order_lines] == [
        [getattr(x, f) for f in fields] for x in quote_lines
    ]
    assert order.total == totals(quote_lines).total == totals(order_lines).total
    assert order.customer_id == quote.deal.customer_id
    assert order.number.startswith(f"SO-{timezone.localdate().year}-")


def test_accept_then_win_creates_the_order(rep, django_capture_on_commit_callbacks):
    product = ProductFactory()
    deal = DealFactory(owner=rep)
    quote = make_quote(
        deal,
        line(product=product, quantity="3", unit_price="10.01", tax="13"),
        line(description="Setup", unit_price="250.00", discount="20"),
    )
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    assert not Order.objects.exists()  # the deal is still open
    deal.refresh_from_db()  # accepting set its amount: a new version
    with django_capture_on_commit_callbacks(execute=True):
        services.deal_win(deal=deal, won_by=rep, expected_version=deal.version)
    order = Order.objects.get()
    _assert_order_copies(order, quote)
    assert order.quote == quote and order.deal == deal


def test_accepting_a_quote_of_a_won_deal_creates_the_order(rep):
    deal = DealFactory(owner=rep)
    services.deal_win(deal=deal, won_by=rep, expected_version=deal.version)
    quote = make_quote(deal, line(quantity="2", unit_price="49.99", tax="6"))
    quote_set_status(quote=quote, status=Quote.Status.SENT)
    assert not Order.objects.exists()
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    _assert_order_copies(Order.objects.get(), quote)
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)  # again: no second order
    assert Order.objects.count() == 1


def test_a_quote_of_a_lost_deal_cannot_be_accepted(rep):
    deal = DealFactory(owner=rep)
    quote = make_quote(deal)
    services.deal_lose(
        deal=deal, reason="Too expensive", lost_by=rep, expected_version=deal.version
    )
    with pytest.raises(DealRuleError):
        quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)


# --- pages --------------------------------------------------------------------------------


def test_builder_page_defaults_to_thirty_days(rep_client, rep):
    deal = DealFactory(owner=rep)
    ProductFactory(name="Router")
    response = rep_client.get(reverse("sales:quote-create", args=[deal.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    expected = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert f'value="{expected}"' in content
    assert "Router" in content and "product-data" in content
    assert "__prefix__" in content  # the row template for "Add line"


def test_build_a_quote_with_two_lines(rep_client, rep):
    deal = DealFactory(owner=rep)
    product = ProductFactory(unit_price=D("10.00"), tax_rate=D("13.00"))
    lines = [
        {**form_line("Router", "3", "10.00", "0", "13"), "product": str(product.pk)},
        form_line("Installation", "1", "99.995", "0", "0"),  # 3 decimals: refused
    ]
    response = rep_client.post(reverse("sales:quote-create", args=[deal.pk]), post_data(lines))
    assert response.status_code == 422
    assert not Quote.objects.exists()
    lines[1]["unit_price"] = "99.99"
    lines.append({**form_line("Deleted"), "DELETE": "on"})
    lines.append({**form_line("", "", "", "0", "0")})  # a blank row is skipped
    response = rep_client.post(reverse("sales:quote-create", args=[deal.pk]), post_data(lines))
    quote = Quote.objects.get()
    assert response.status_code == 302 and response.url == quote.get_absolute_url()
    assert [x.description for x in quote.lines.all()] == ["Router", "Installation"]
    assert quote.lines.first().product == product
    page = rep_client.get(quote.get_absolute_url()).content.decode()
    # 30.00 + 3.90 tax; 99.99 → net 129.99, tax 3.90, total 133.89
    for amount in ("30.00", "3.90", "33.90", "129.99", "133.89"):
        assert amount in page


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"quantity": "0"}, "greater than or equal to 0.001"),
        ({"quantity": "-1"}, "greater than or equal to 0.001"),
        ({"discount_percent": "101"}, "less than or equal to 100"),
        ({"unit_price": "1e400"}, "no more than 14 digits"),
        ({"unit_price": "NaN"}, "Enter a number"),
        ({"quantity": "999999999", "unit_price": "999999999999.99"}, "too large"),
        ({"description": "bad\x00byte"}, "Null characters"),
    ],
)
def test_builder_refuses_bad_lines_with_a_message(rep_client, rep, values, message):
    deal = DealFactory(owner=rep)
    data = post_data([{**form_line(), **values}])
    response = rep_client.post(reverse("sales:quote-create", args=[deal.pk]), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Quote.objects.exists()


def test_builder_survives_a_tampered_management_form(rep_client, rep):
    deal = DealFactory(owner=rep)
    url = reverse("sales:quote-create", args=[deal.pk])
    for total in ("abc", "100000", "-1"):
        data = post_data([form_line()])
        data["lines-TOTAL_FORMS"] = total
        assert rep_client.post(url, data).status_code == 422
    data = post_data([form_line()], valid_until=timezone.localdate() - timedelta(days=1))
    assert rep_client.post(url, data).status_code == 422
    data = post_data([form_line()])
    data["valid_until"] = "2026-02-30"
    assert rep_client.post(url, data).status_code == 422
    assert not Quote.objects.exists()


def test_edit_a_draft_then_status_buttons(rep_client, rep):
    quote = make_quote(DealFactory(owner=rep), line(), line(description="Old"))
    url = reverse("sales:quote-update", args=[quote.pk])
    assert rep_client.get(url).status_code == 200
    data = post_data([form_line("New", "2", "5.00")], version=str(quote.version))
    assert rep_client.post(url, data).status_code == 302
    assert [x.description for x in quote.lines.all()] == ["New"]
    status_url = reverse("sales:quote-status", args=[quote.pk])
    assert rep_client.get(status_url).status_code == 405
    rep_client.post(status_url, {"status": "sent"})
    quote.refresh_from_db()
    assert quote.status == "sent"
    response = rep_client.get(url)  # no longer editable
    assert response.status_code == 302
    rep_client.post(status_url, {"status": "accepted"})
    response = rep_client.post(status_url, {"status": "draft"}, follow=True)
    assert "An accepted quote cannot change its status." in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == "accepted"


def test_print_page_is_a_clean_sheet(rep_client, rep):
    customer = CustomerFactory(name="<script>alert(1)</script> Ltd")
    quote = make_quote(DealFactory(owner=rep, customer=customer), line(description="<b>x</b>"))
    response = rep_client.get(reverse("sales:quote-print", args=[quote.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "<nav" not in content  # no navbar
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in content
    assert "<script>alert(1)" not in content and "&lt;b&gt;x&lt;/b&gt;" in content
    assert "Print / Save as PDF" in content and "css/quote_print." in content
    assert quote.number in content


# --- access -------------------------------------------------------------------------------


def _quote_urls(quote, deal):
    return [
        reverse("sales:quote-create", args=[deal.pk]),
        reverse("sales:quote-detail", args=[quote.pk]),
        reverse("sales:quote-update", args=[quote.pk]),
        reverse("sales:quote-print", args=[quote.pk]),
    ]


def test_access_by_persona(rep, rep2, client, rep_client, rep2_client, manager_client, agent_client, marketer_client):  # fmt: skip
    deal = DealFactory(owner=rep)
    quote = make_quote(deal)
    urls = _quote_urls(quote, deal)
    for url in urls:
        assert rep_client.get(url).status_code == 200, url
        assert manager_client.get(url).status_code == 200, url
        assert rep2_client.get(url).status_code == 404, url
        assert agent_client.get(url).status_code == 403, url
        assert marketer_client.get(url).status_code == 403, url
        assert client.get(url).status_code == 302, url  # to the login page
    status_url = reverse("sales:quote-status", args=[quote.pk])
    assert rep2_client.post(status_url, {"status": "sent"}).status_code == 404
    assert agent_client.post(status_url, {"status": "sent"}).status_code == 403
    data = post_data([form_line()])
    assert rep2_client.post(urls[0], data).status_code == 404
    assert rep2_client.post(urls[2], data).status_code == 404
    quote.refresh_from_db()
    assert quote.status == "draft" and Quote.objects.count() == 1
    assert manager_client.post(status_url, {"status": "sent"}).status_code == 302
    quote.refresh_from_db()
    assert quote.status == "sent"


def test_manager_builds_a_quote_for_a_reps_deal(manager_client, rep):
    deal = DealFactory(owner=rep)
    response = manager_client.post(
        reverse("sales:quote-create", args=[deal.pk]), post_data([form_line()])
    )
    assert response.status_code == 302
    assert Quote.objects.get().deal == deal


# --- queries ------------------------------------------------------------------------------


def test_quote_detail_queries_do_not_grow_with_lines(rep_client, rep, django_assert_max_num_queries):  # fmt: skip
    deal = DealFactory(owner=rep)
    small = make_quote(deal, line())
    big = make_quote(
        deal, *[line(description=f"Line {n}", product=ProductFactory()) for n in range(40)]
    )
    services.deal_win(
        deal=deal, won_by=rep, expected_version=deal.version
    )  # order link on the page
    counts = []
    rep_client.get(reverse("sales:quote-detail", args=[small.pk]))  # warm caches
    for quote in (small, big):
        for name in ("sales:quote-detail", "sales:quote-print"):
            with django_assert_max_num_queries(12) as captured:
                response = rep_client.get(reverse(name, args=[quote.pk]))
            assert response.status_code == 200
            counts.append((name, len(captured)))
    assert counts[:2] == counts[2:]
    assert Deal.objects.get().status == Deal.Status.WON


def test_accepting_a_quote_sets_the_deals_amount_after_asking(rep, rep_client):
    """Deal and quote drifted apart: the deal kept its first estimate after a quote for a
    different total was accepted (issue 16)."""
    deal = DealFactory(owner=rep, amount=D("1000.00"))
    quote = make_quote(deal, line(quantity="3", unit_price="400.00"))
    quote_set_status(quote=quote, status=Quote.Status.SENT)
    page = rep_client.get(quote.get_absolute_url()).content.decode()
    assert "amount changes from 1,000.00 USD to 1,200.00 USD." in page
    version = deal.version
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    deal.refresh_from_db()
    assert deal.amount == D("1200.00") and deal.version == version + 1


def test_quote_page_total_is_formatted_like_its_lines(rep, rep_client):
    """The quote page showed "50,000.00" in its lines and "50000.00 EUR" beside them."""
    deal = DealFactory(owner=rep, currency="EUR")
    quote = make_quote(deal, line(quantity="1000", unit_price="50.00"))
    page = rep_client.get(quote.get_absolute_url()).content.decode()
    assert "50000.00" not in page and "50,000.00\u00a0EUR" in page
    assert ">1,000<" in page  # the quantity too
