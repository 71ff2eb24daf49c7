"""The customer's whole story on one timeline (issue 16): every app's events through the
registry in crm/lib/timeline.py, filtered by kind, paged by cursor, and only what the
viewer may open."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.lib.timeline import Cursor, timeline_page
from customers.models import Task
from customers.services import consent_set, customers_merge
from sales.models import Quote
from sales.services import deal_create, deal_lose, deal_move, deal_win, quote_set_status
from service.models import Ticket
from tests.factories import (
    CampaignRecipientFactory,
    CustomerFactory,
    DealFactory,
    InteractionFactory,
    OrderFactory,
    SatisfactionResponseFactory,
    TaskFactory,
    TicketFactory,
)
from tests.sales.lines import line
from tests.sales.test_deals import stage
from tests.sales.test_quotes import make_quote

pytestmark = pytest.mark.django_db

OLDER_LINK = re.compile(r'hx-get="([^"]+/timeline/\?[^"]+)"')


def _kinds(client, customer, query="") -> list[str]:
    response = client.get(customer.get_absolute_url() + query)
    assert response.status_code == 200
    return [event.kind for event in response.context["timeline"]]


def test_the_sales_journey_shows_each_step(rep, rep_client):
    """A deal created, a quote sent and accepted, the deal won and its order: the timeline
    said "Nothing has happened with this customer yet" (issue 16)."""
    customer = CustomerFactory(owner=rep)
    deal = deal_create(
        customer=customer,
        title="Fleet renewal",
        amount=Decimal("1000.00"),
        stage=stage("Proposal"),
        expected_close_date=timezone.localdate(),
        owner=rep,
        created_by=rep,
    )
    quote = make_quote(deal, line(quantity="2", unit_price="600.00"))
    quote_set_status(quote=quote, status=Quote.Status.SENT)
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    deal.refresh_from_db()
    deal_win(deal=deal, won_by=rep, expected_version=deal.version)

    page = rep_client.get(customer.get_absolute_url()).content.decode()

    assert "Nothing has happened" not in page
    for text in (
        "Deal “Fleet renewal” created",
        f"Quote {quote.number} sent",
        f"Quote {quote.number} accepted",
        "Deal “Fleet renewal” won",
        "Order ",
    ):
        assert text in page, text
    assert set(_kinds(rep_client, customer)) >= {
        "deal_created",
        "quote_sent",
        "quote_accepted",
        "deal_won",
        "order",
    }
    assert f'href="{deal.get_absolute_url()}"' in page
    assert f'href="{quote.get_absolute_url()}"' in page


def test_each_step_shows_the_amount_it_had_then(rep, rep_client):
    """ "Deal created: 300.00 EUR" after a deal created at 48,000 EUR was won at 300: the
    created and won lines read the deal's amount of today."""
    customer = CustomerFactory(owner=rep)
    deal = deal_create(
        customer=customer,
        title="Scanners",
        amount=Decimal("48000.00"),
        currency="EUR",
        stage=stage("Proposal"),
        expected_close_date=timezone.localdate(),
        owner=rep,
        created_by=rep,
    )
    deal_win(deal=deal, won_by=rep, expected_version=deal.version, amount=Decimal("50000"))
    deal.refresh_from_db()
    deal.amount = Decimal("1.00")  # edited after the win (the admin, the API)
    deal.save()
    page = rep_client.get(customer.get_absolute_url()).content.decode()
    assert "Deal “Scanners” created: 48,000.00 EUR" in page
    assert "Deal “Scanners” won: 50,000.00 EUR" in page


def test_every_app_adds_its_kinds(manager, manager_client):
    customer = CustomerFactory(owner=manager)
    InteractionFactory(customer=customer, summary="Called about the renewal")
    task = TaskFactory(customer=customer, assignee=manager, title="Send the brochure")
    task.done, task.done_at = True, timezone.now()
    task.save()
    consent_set(customer=customer, channel="email", granted=True, source="test", by=manager)
    deal = DealFactory(customer=customer, owner=manager)
    lost = deal_create(
        customer=customer,
        title="Small add-on",
        amount=Decimal("10"),
        stage=stage("Qualification"),
        expected_close_date=timezone.localdate(),
        owner=manager,
        created_by=manager,
    )
    deal_move(deal=lost, stage=stage("Proposal"), moved_by=manager, expected_version=lost.version)
    lost.refresh_from_db()
    deal_lose(deal=lost, reason="Budget cut", lost_by=manager, expected_version=lost.version)
    OrderFactory(customer=customer, deal=deal)
    ticket = TicketFactory(customer=customer, status=Ticket.Status.RESOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now())
    SatisfactionResponseFactory(ticket=ticket, score=4)
    CampaignRecipientFactory(
        customer=customer, sent_at=timezone.now(), converted_at=timezone.now(), coupon_code="C1"
    )

    kinds = set(_kinds(manager_client, customer))

    assert kinds == {
        "interaction",
        "task",
        "task_done",
        "consent",
        "deal_created",
        "deal_moved",
        "deal_lost",
        "order",
        "ticket_opened",
        "ticket_resolved",
        "csat",
        "campaign",
        "converted",
    }


def test_filter_by_kind(manager, manager_client):
    customer = CustomerFactory(owner=manager)
    InteractionFactory(customer=customer)
    OrderFactory(customer=customer)
    TicketFactory(customer=customer)

    assert set(_kinds(manager_client, customer, "?kind=order")) == {"order"}
    both = _kinds(manager_client, customer, "?kind=order&kind=interaction")
    assert sorted(both) == ["interaction", "order"]
    page = manager_client.get(customer.get_absolute_url() + "?kind=csat").content.decode()
    assert "Nothing of these kinds" in page
    chips = manager_client.get(customer.get_absolute_url() + "?kind=order").content.decode()
    assert re.search(r'<input type="checkbox" name="kind" value="order"[^>]*checked', chips)


def _all_pages(client, customer, query="") -> list[list[tuple]]:
    """Every page of the timeline, following the "Older" links htmx follows."""
    response = client.get(customer.get_absolute_url() + query)
    pages = [[e.cursor for e in response.context["timeline"]]]
    html = response.content.decode()
    while match := OLDER_LINK.search(html):
        response = client.get(match.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
        assert response.status_code == 200
        pages.append([e.cursor for e in response.context["timeline"]])
        html = response.content.decode()
    return pages


def test_pages_are_disjoint_and_consecutive(manager, manager_client):
    customer = CustomerFactory(owner=manager)
    at = timezone.now() - timedelta(days=1)
    for n in range(30):  # ties in time across kinds and within one
        InteractionFactory(customer=customer, occurred_at=at - timedelta(minutes=n // 3))
        OrderFactory(customer=customer, ordered_at=at - timedelta(minutes=n // 2))

    pages = _all_pages(manager_client, customer)

    assert [len(page) for page in pages] == [25, 25, 10]
    flat = [cursor for page in pages for cursor in page]
    assert len(set(flat)) == 60  # no event twice
    assert flat == sorted(flat, reverse=True)  # newest first across the pages
    only_orders = _all_pages(manager_client, customer, "?kind=order")
    assert [len(page) for page in only_orders] == [25, 5]
    assert {cursor.kind for page in only_orders for cursor in page} == {"order"}


def test_older_page_matches_the_registry(manager):
    """The cursor compares (time, kind, id): a page starts right after the previous one."""
    customer = CustomerFactory(owner=manager)
    at = timezone.now()
    for _ in range(4):
        InteractionFactory(customer=customer, occurred_at=at)
        OrderFactory(customer=customer, ordered_at=at)
    first = timeline_page(manager, customer, limit=3)
    rest = timeline_page(manager, customer, cursor=first.next_cursor, limit=10)
    everything = timeline_page(manager, customer, limit=10)
    assert [e.cursor for e in first.events + rest.events] == [e.cursor for e in everything.events]
    assert rest.next_cursor is None
    assert isinstance(first.next_cursor, Cursor)


def test_query_count_does_not_grow_with_events(
    manager, manager_client, django_assert_max_num_queries
):
    def count(customer) -> int:
        with django_assert_max_num_queries(60) as captured:
            manager_client.get(customer.get_absolute_url())
        return len(captured)

    small, large = CustomerFactory(owner=manager), CustomerFactory(owner=manager)
    for customer, n in ((small, 10), (large, 200)):
        for _ in range(n // 4):
            InteractionFactory(customer=customer)
            OrderFactory(customer=customer)
            DealFactory(customer=customer, owner=manager)
            TicketFactory(customer=customer)
    count(small)  # warm: content types and the like
    assert count(small) == count(large)


def test_a_rep_sees_only_what_they_may_open(rep, rep2, rep2_client, agent_client):
    """rep2 reads rep's customer, but not rep's deals, quotes or orders (sales rules);
    an agent sees no sales events at all."""
    customer = CustomerFactory(owner=rep)
    deal = deal_create(
        customer=customer,
        title="Secret deal",
        amount=Decimal("5"),
        stage=stage("Proposal"),
        expected_close_date=timezone.localdate(),
        owner=rep,
        created_by=rep,
    )
    quote = make_quote(deal)
    quote_set_status(quote=quote, status=Quote.Status.SENT)
    OrderFactory(customer=customer, number="ORD-HIDDEN")
    InteractionFactory(customer=customer, summary="A visible call")

    for client in (rep2_client, agent_client):
        page = client.get(customer.get_absolute_url()).content.decode()
        assert "A visible call" in page
        assert "Secret deal" not in page and quote.number not in page
        assert "ORD-HIDDEN" not in page
        more = client.get(
            reverse("customers:customer-timeline", args=[customer.pk]) + "?kind=deal_created"
        ).content.decode()
        assert "Secret deal" not in more


def test_the_timeline_fragment_needs_a_visible_customer(nobody_client, rep_client):
    customer = CustomerFactory()
    url = reverse("customers:customer-timeline", args=[customer.pk])
    assert nobody_client.get(url).status_code == 403
    assert rep_client.get(url).status_code == 200
    missing = reverse("customers:customer-timeline", args=[customer.pk + 1000])
    assert rep_client.get(missing).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "?before=garbage",
        "?before=2026-02-30T00:00:00%2B00:00~order~1",
        "?before=9999-12-31T23:59:59-14:00~order~1",
        "?before=0001-01-01T00:00:00%2B14:00~order~1",
        "?before=2026-01-01T00:00:00~order~1",  # no time zone
        "?before=2026-01-01T00:00:00%2B00:00~order~" + str(10**30),
        "?before=2026-01-01T00:00:00%2B00:00~order~%D9%A1%D9%A2",
        "?before=2026-01-01T00:00:00%2B00:00~nope~1",
        "?before=a%00b",
        "?kind=nope&kind=%00",
        "?kind=" + "x" * 3000,
    ],
)
def test_hostile_cursor_and_kind_never_fail(query, manager, manager_client):
    customer = CustomerFactory(owner=manager)
    OrderFactory(customer=customer)
    for url in (
        customer.get_absolute_url(),
        reverse("customers:customer-timeline", args=[customer.pk]),
    ):
        response = manager_client.get(url + query)
        assert response.status_code == 200
        # A cursor that does not parse is ignored: the newest page.
        assert [e.kind for e in response.context["timeline"]] == ["order"]


def test_a_merge_says_what_moved(manager, manager_client):
    """The merge was logged as an "In person" interaction saying nothing of what moved."""
    kept, duplicate = CustomerFactory(owner=manager), CustomerFactory(name="Wang Dup")
    InteractionFactory.create_batch(2, customer=duplicate)
    DealFactory.create_batch(3, customer=duplicate, owner=manager)
    TicketFactory(customer=duplicate)
    duplicate_pk = duplicate.pk
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)

    response = manager_client.get(kept.get_absolute_url() + "?kind=merge")
    [event] = response.context["timeline"]
    assert f"“Wang Dup” (#{duplicate_pk})" in event.text and event.who == manager.username
    assert event.detail == "Moved: 2 interactions, 3 deals, 1 ticket"
    assert kept.interactions.count() == 2  # no "In person" note about the merge


def test_history_names_people_and_choices(rep, rep2, manager, manager_client):
    """ "owner: rep → rep2", and the stage by its label, not ids and codes."""
    customer = CustomerFactory(owner=rep, stage="lead")
    customer.owner, customer.stage = rep2, "prospect"
    customer.save()
    page = manager_client.get(customer.get_absolute_url()).content.decode()
    assert f'<del class="text-secondary">{rep.username}</del> → {rep2.username}' in page
    assert '<del class="text-secondary">Lead</del> → Prospect' in page


def _one_of_each(customer, owner, at):
    """An event of every kind at the instant `at`; quote, task and recipient each give two
    kinds of event from one row (the same id under two kinds, at the same time)."""
    InteractionFactory(customer=customer, occurred_at=at)
    task = TaskFactory(customer=customer, assignee=owner, done=True, done_at=at)
    Task.objects.filter(pk=task.pk).update(created_at=at)  # auto_now_add on create
    deal = DealFactory(customer=customer, owner=owner, created_at=at)
    quote = make_quote(deal)
    Quote.objects.filter(pk=quote.pk).update(sent_at=at, accepted_at=at)
    OrderFactory(customer=customer, ordered_at=at)
    ticket = TicketFactory(customer=customer, created_at=at, resolved_at=at)
    SatisfactionResponseFactory(ticket=ticket, created_at=at)
    CampaignRecipientFactory(customer=customer, sent_at=at, converted_at=at)


def test_ties_in_time_across_kinds_and_rows_lose_and_repeat_nothing(manager):
    """Every event at one of two instants: each "Older" page starts right after the last."""
    customer = CustomerFactory(owner=manager)
    at = timezone.now() - timedelta(hours=1)
    for instant in (at, at, at - timedelta(microseconds=1)):
        _one_of_each(customer, manager, instant)
    everything = [e.cursor for e in timeline_page(manager, customer, limit=500).events]
    assert len(everything) == 3 * 12 == len(set(everything))
    assert {cursor.when for cursor in everything} == {at, at - timedelta(microseconds=1)}

    for limit in (1, 2, 3, 5, 7):
        paged, cursor = [], None
        while True:
            page = timeline_page(manager, customer, cursor=cursor, limit=limit)
            paged += [e.cursor for e in page.events]
            if page.next_cursor is None:
                break
            assert page.next_cursor == paged[-1]
            cursor = page.next_cursor
        assert paged == everything, limit


def test_older_page_queries_do_not_grow_with_events(
    manager, rep, manager_client, rep_client, django_assert_max_num_queries
):
    """The "Older" fragment (and the 360° page's first page) ask each source once, however
    many events the customer has of each kind."""

    def counts(customer) -> list[int]:
        found = []
        for client in (manager_client, rep_client):
            first = client.get(customer.get_absolute_url())
            older = OLDER_LINK.search(first.content.decode())
            assert older is not None
            with django_assert_max_num_queries(30) as captured:
                response = client.get(
                    older.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}
                )
            assert response.status_code == 200
            found.append(len(captured))
        return found

    at = timezone.now() - timedelta(days=1)
    small, large = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    for customer, n in ((small, 3), (large, 12)):
        for step in range(n):
            _one_of_each(customer, rep, at - timedelta(minutes=step))
    counts(small)  # warm: content types and permissions
    assert counts(small) == counts(large)
