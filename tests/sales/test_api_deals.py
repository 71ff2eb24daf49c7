"""The deals API (sales/api.py): access per role as on the pages, the deal form's rules,
move / win / lose through the services, ETag and If-Match, queries, the forecast."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sales.models import Deal, DealStageChange, Order, Quote, QuoteLine, Stage
from tests.factories import CustomerFactory, DealFactory

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def api(user) -> APIClient:
    client = APIClient()
    client.default_format = "json"  # the API parses JSON only
    client.force_login(user)
    return client


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


def new_deal_body(customer, **changes):
    body = {
        "customer": customer.pk,
        "title": "Big one",
        "amount": "1200.50",
        "expected_close_date": str(timezone.localdate() + timedelta(days=20)),
    }
    return body | changes


def assert_problem(response, status: int, field: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if field:
        assert field in body["errors"], body


# --- access ---------------------------------------------------------------------------------


def test_a_rep_sees_only_their_deals_and_another_reps_by_id_is_404(rep, rep2):
    mine, theirs = DealFactory(owner=rep), DealFactory(owner=rep2)
    client = api(rep)
    listed = client.get("/api/v1/deals/").json()["results"]
    assert [d["id"] for d in listed] == [mine.pk]
    assert client.get(f"/api/v1/deals/{mine.pk}/").status_code == 200
    for url in (f"/api/v1/deals/{theirs.pk}/", f"/api/v1/deals/{theirs.pk}/win/"):
        method = client.post if url.endswith("win/") else client.get
        assert_problem(method(url), 404)
    assert_problem(client.patch(f"/api/v1/deals/{theirs.pk}/", {"title": "x"}), 404)
    theirs.refresh_from_db()
    assert theirs.status == Deal.Status.OPEN and theirs.title != "x"


@pytest.mark.parametrize("persona", ["agent", "marketer", "nobody"])
def test_roles_without_sales_get_403_everywhere(request, persona):
    user = request.getfixturevalue(persona)
    deal = DealFactory()
    client = api(user)
    for url in ("/api/v1/deals/", f"/api/v1/deals/{deal.pk}/", "/api/v1/quotes/",
                "/api/v1/orders/", "/api/v1/products/", "/api/v1/forecast/"):  # fmt: skip
        assert_problem(client.get(url), 403)
    assert_problem(client.post(f"/api/v1/deals/{deal.pk}/win/"), 403)
    assert_problem(client.post("/api/v1/deals/", new_deal_body(deal.customer)), 403)
    assert Deal.objects.get().status == Deal.Status.OPEN


def test_login_is_required():
    assert APIClient().get("/api/v1/deals/").status_code in (401, 403)


def test_a_manager_sees_every_deal_and_filters_like_the_list_page(manager, rep, rep2):
    DealFactory(owner=rep, title="Alpha", amount=Decimal("10"))
    DealFactory(owner=rep2, title="Beta", amount=Decimal("5000"))
    client = api(manager)
    assert len(client.get("/api/v1/deals/").json()["results"]) == 2

    def titles(query):
        return [d["title"] for d in client.get(f"/api/v1/deals/?{query}").json()["results"]]

    assert titles("q=alp") == ["Alpha"]
    assert titles(f"owner={rep2.pk}") == ["Beta"]
    assert titles("amount_min=100") == ["Beta"]
    assert titles("ordering=amount") == ["Alpha", "Beta"]
    assert titles("ordering=-amount") == ["Beta", "Alpha"]
    assert_problem(client.get("/api/v1/deals/?close_month=2026-13"), 400, "close_month")


@pytest.mark.parametrize(
    "query",
    ["q=%00", "amount_min=1e400", "amount_min=%D9%A1", "owner=99999999999999999999999",
     "stage=-1", "close_month=0000-00", "ordering=%00", "ordering=password", "cursor=%00%ff",
     "status=<script>", "page_size=99999999999999999999", "mine=maybe"],
)  # fmt: skip
def test_hostile_query_strings_never_500(manager, query):
    DealFactory()
    response = api(manager).get(f"/api/v1/deals/?{query}")
    assert response.status_code in (200, 400, 404), response.content


@pytest.mark.parametrize("path", ["0", "-1", "99999999999999999999999", "%D9%A1"])
def test_impossible_ids_are_404(manager, path):
    assert_problem(api(manager).get(f"/api/v1/deals/{path}/"), 404)


# --- create and edit ----------------------------------------------------------------------------


def test_a_rep_creates_a_deal_for_their_customer_with_the_forms_rules(rep, rep2):
    customer = CustomerFactory(owner=rep)
    client = api(rep)
    response = client.post("/api/v1/deals/", new_deal_body(customer), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    deal = Deal.objects.get(pk=body["id"])
    assert (deal.owner, deal.stage, deal.amount) == (
        rep,
        stage("Qualification"),
        Decimal("1200.50"),
    )
    assert body["amount"] == "1200.50" and body["currency"] == deal.currency
    assert response["ETag"] == f'"{deal.version}"'
    assert DealStageChange.objects.filter(deal=deal).count() == 1
    # The deal form's rules: no closed stage, a close date in range, a customer one may work.
    assert_problem(
        client.post("/api/v1/deals/", new_deal_body(customer, stage=stage("Won").pk)), 400, "stage"
    )
    assert_problem(
        client.post("/api/v1/deals/", new_deal_body(customer, expected_close_date="2999-01-01")),
        400,
        "expected_close_date",
    )
    assert_problem(
        client.post("/api/v1/deals/", new_deal_body(customer, currency="1$x")), 400, "currency"
    )
    other = CustomerFactory(owner=rep2)
    assert client.post("/api/v1/deals/", new_deal_body(other)).status_code == 403
    assert Deal.objects.count() == 1


def test_patch_goes_through_deal_update_and_a_stale_if_match_is_412(rep):
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep))
    client = api(rep)
    etag = client.get(f"/api/v1/deals/{deal.pk}/")["ETag"]
    assert etag == f'"{deal.version}"'
    moved = client.patch(
        f"/api/v1/deals/{deal.pk}/", {"stage": stage("Proposal").pk, "title": " New "},
        format="json", HTTP_IF_MATCH=etag,
    )  # fmt: skip
    assert moved.status_code == 200, moved.content
    deal.refresh_from_db()
    assert (deal.title, deal.stage, deal.probability) == (
        "New",
        stage("Proposal"),
        stage("Proposal").probability,
    )
    assert moved["ETag"] == f'"{deal.version}"' != etag
    # The old ETag is stale now: 412, nothing changes.
    stale = client.patch(f"/api/v1/deals/{deal.pk}/", {"title": "Lost update"}, HTTP_IF_MATCH=etag)
    assert_problem(stale, 412)
    for action, body in (
        ("move", {"stage": stage("Negotiation").pk}),
        ("win", {}),
        ("lose", {"reason": "x"}),
    ):
        assert_problem(
            client.post(f"/api/v1/deals/{deal.pk}/{action}/", body, HTTP_IF_MATCH=etag), 412
        )
    before = deal.version
    deal.refresh_from_db()
    assert (deal.title, deal.version, deal.stage) == ("New", before, stage("Proposal"))
    # A closed stage only by win and lose, as on the page.
    assert_problem(
        client.patch(f"/api/v1/deals/{deal.pk}/", {"stage": stage("Won").pk}), 400, "stage"
    )
    assert_problem(
        client.patch(f"/api/v1/deals/{deal.pk}/", {"customer": CustomerFactory().pk}),
        400,
        "customer",
    )


# --- actions ------------------------------------------------------------------------------------


def test_move_win_and_lose_as_the_board_and_the_deal_page_do(rep, manager):
    deal = DealFactory(owner=rep)
    client = api(rep)
    response = client.post(f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("Negotiation").pk})
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == stage("Negotiation").pk
    # A lost stage needs a reason; the lose action takes one.
    assert_problem(
        client.post(f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("Lost").pk}), 400, "stage"
    )
    assert_problem(client.post(f"/api/v1/deals/{deal.pk}/lose/", {"reason": "  "}), 400, "reason")
    lost = client.post(f"/api/v1/deals/{deal.pk}/lose/", {"reason": "Too dear"})
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason"] == "Too dear"
    # Closed: moving to an open stage is refused with the service's message.
    refused = client.post(f"/api/v1/deals/{deal.pk}/move/", {"stage": stage("Proposal").pk})
    assert_problem(refused, 400, "stage")
    assert "closed" in refused.json()["errors"]["stage"][0]
    # Win: an accepted quote becomes an order, as deal_win does on the page.
    other = DealFactory(owner=manager)
    quote = Quote.objects.create(
        deal=other, number="Q-1", status="accepted", valid_until=timezone.localdate()
    )
    QuoteLine.objects.create(
        quote=quote, description="Item", quantity=1, unit_price=Decimal("9.99")
    )
    won = api(manager).post(f"/api/v1/deals/{other.pk}/win/")
    assert won.status_code == 200 and won.json()["status"] == "won"
    assert Order.objects.get(quote=quote).total == Decimal("9.99")
    assert_problem(
        api(manager).post(f"/api/v1/deals/{other.pk}/move/", {"stage": 10**30}), 400, "stage"
    )


def test_a_rep_reads_quotes_with_lines_of_their_deals_only(rep, rep2):
    mine, theirs = DealFactory(owner=rep), DealFactory(owner=rep2)
    quote = Quote.objects.create(deal=mine, number="Q-A", valid_until=timezone.localdate())
    QuoteLine.objects.create(
        quote=quote, description="Item", quantity=2, unit_price=Decimal("5"), tax_rate=Decimal("10")
    )
    hidden = Quote.objects.create(deal=theirs, number="Q-B", valid_until=timezone.localdate())
    client = api(rep)
    listed = client.get("/api/v1/quotes/").json()["results"]
    assert [q["number"] for q in listed] == ["Q-A"]
    line = listed[0]["lines"][0]
    assert (line["quantity"], line["net_amount"], line["tax_amount"], line["total"]) == (
        "2.000",
        "10.00",
        "1.00",
        "11.00",
    )
    assert_problem(client.get(f"/api/v1/quotes/{hidden.pk}/"), 404)


# --- queries and the forecast -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/deals/", "/api/v1/quotes/"])
def test_list_queries_do_not_grow_with_rows(manager, url, django_assert_max_num_queries):
    client = api(manager)

    def add(count):
        for _ in range(count):
            deal = DealFactory()
            quote = Quote.objects.create(
                deal=deal, number=f"Q-{deal.pk}", valid_until=timezone.localdate()
            )
            QuoteLine.objects.create(quote=quote, description="A", quantity=1, unit_price=1)

    add(2)
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).json()["results"]) == 22


def test_the_forecast_shows_a_rep_their_own_pipeline(rep, rep2, manager):
    close = timezone.localdate()
    DealFactory(owner=rep, amount=Decimal("100"), expected_close_date=close)
    DealFactory(owner=rep2, amount=Decimal("900"), expected_close_date=close)
    mine = api(rep).get("/api/v1/forecast/").json()
    assert [(row["owner"], row["owner_name"]) for row in mine["by_owner"]] == [("rep", "Rita")]
    assert mine["by_month"][0]["best_case"] == "100.00" and len(mine["by_month"]) == 6
    everyone = api(manager).get(f"/api/v1/forecast/?months=3&start={close:%Y-%m}").json()
    assert everyone["by_month"][0]["best_case"] == "1000.00" and len(everyone["by_month"]) == 3
    for query in ("months=7", "start=2026-13", "start=%00", "owner=99999999999999999999"):
        assert_problem(api(manager).get(f"/api/v1/forecast/?{query}"), 400)


def test_a_manager_edits_a_reps_deal_and_the_owner_stays_a_choice(manager, rep):
    deal = DealFactory(owner=rep)
    response = api(manager).patch(f"/api/v1/deals/{deal.pk}/", {"amount": "77.00"})
    assert response.status_code == 200, response.content
    assert response.json()["owner"] == rep.pk and response.json()["amount"] == "77.00"
    assert_problem(api(rep).patch(f"/api/v1/deals/{deal.pk}/", {"owner": manager.pk}), 400, "owner")
