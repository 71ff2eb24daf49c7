"""The 360° customer page with its panels: queries in all, as a manager and as a rep.

The count follows what a browser does: it requests the page, then every URL the page
loads with htmx when it loads (`hx-trigger="load"`), and adds up the queries of all
those requests. To print the figures (per request and in all):

    pytest -s -p no:cacheprovider tests/crm/test_customer_page_queries.py

and with `DATABASE_URL=postgres://...` for PostgreSQL. The budgets are the measured
counts: a panel that starts to query per row, or to look up again what the page has
read, fails here.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from analytics.models import Recommendation
from customers.models import Customer
from marketing.services.loyalty import loyalty_adjust
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    CustomerValueFactory,
    DealFactory,
    InteractionFactory,
    OrderFactory,
    ProductFactory,
    SatisfactionResponseFactory,
    SegmentRunFactory,
    TaskFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

# Queries of the page and of every request it makes on load, in all (SQLite and
# PostgreSQL alike). Before the panels rendered in the page: 56 for both, the page 17
# and five panel requests of 6 to 9, each looking up the session, the user, the user's
# permissions (2) and the customer again, and the contacts read three times. Now:
# - the page, 33: the session, the user, permissions (2), the customer, its tags,
#   consents and contacts, the timeline (11: interactions, consents, merges, deals
#   created, orders, CSAT one each, and one per group of kinds of one table: tasks added
#   and done, deals moved, won and lost, quotes sent and accepted, tickets opened and
#   resolved, campaigns and coupons; 17 before issue 18), the history (3), the task badge,
#   the task form's users; and the panels rendered inline: deals 1, value 3, loyalty 3;
#   the customer's files and the timeline's files (2, issue 14);
# - the deferred panels, one request, 11: the same 5 look-ups once, orders 3 (the lifetime
#   total is summed per currency and day, then the rates are read), tickets 3.
PAGE_WITH_PANELS_QUERIES = 44

LOADED_ON_LOAD = re.compile(r'hx-get="([^"]+)"[^>]*hx-trigger="load"')


def _requests(client: Client, customer: Customer) -> list[str]:
    """The page, then what it loads with htmx as soon as it is shown."""
    page = customer.get_absolute_url()
    html = client.get(page).content.decode()
    return [page, *LOADED_ON_LOAD.findall(html)]


def _count(client: Client, customer: Customer, budget: int, assert_max_queries) -> dict:
    """Queries per request; all of them together within `budget`."""
    counts = {}
    for url in _requests(client, customer):
        with assert_max_queries(budget) as captured:
            assert client.get(url).status_code == 200, url
        counts[url] = len(captured)
    assert sum(counts.values()) <= budget, counts
    return counts


def _grow(customer: Customer, *, users: list, count: int, run) -> None:
    """`count` more of everything the page and its panels show."""
    now = timezone.now()
    products = ProductFactory.create_batch(count)
    start = Recommendation.objects.filter(run=run, customer=customer).count()
    Recommendation.objects.bulk_create(
        Recommendation(run=run, customer=customer, product=product, rank=start + n + 1,
                       score=1 / (start + n + 1))
        for n, product in enumerate(products)
    )  # fmt: skip
    ContactFactory.create_batch(count, customer=customer)
    contact = customer.contacts.first()
    for n in range(count):
        user = users[n % len(users)]
        InteractionFactory(customer=customer, logged_by=user, contact=contact if n % 2 else None,
                           occurred_at=now - timedelta(hours=n))  # fmt: skip
        TaskFactory(customer=customer, assignee=user)
        DealFactory(customer=customer, owner=user)
        OrderFactory(customer=customer, total=Decimal("10.00"))
        TicketFactory(customer=customer, status="open" if n % 2 else "new")
        SatisfactionResponseFactory(ticket__customer=customer, score=4)
        loyalty_adjust(customer=customer, points=10, reason=f"Gift {n}", by=users[-1])
    customer.notes = f"Grew by {count}"
    customer.save()


@pytest.mark.parametrize("persona", ["manager", "rep"])
def test_customer_page_with_its_panels_queries_do_not_grow(
    persona, rep, manager, request, django_assert_max_num_queries
):
    client = request.getfixturevalue(f"{persona}_client")
    budget = PAGE_WITH_PANELS_QUERIES
    customer = CustomerFactory(owner=rep, kind=Customer.Kind.COMPANY)
    run = SegmentRunFactory()
    CustomerValueFactory(run=run, customer=customer)
    _grow(customer, users=[rep, manager], count=2, run=run)
    _requests(client, customer)  # the first request of a process fills caches
    few = _count(client, customer, budget, django_assert_max_num_queries)

    _grow(customer, users=[rep, manager], count=30, run=run)
    many = _count(client, customer, budget, django_assert_max_num_queries)
    for url, queries in many.items():
        print(f"{persona:8} {queries:3} {url}")
    print(f"{persona:8} {sum(many.values()):3} in all, {len(many)} requests")
    assert many == few
    assert len(few) > 1  # the page loads panels: the test counts them
