"""Queries per page stay constant as the data grows.

Each test requests its pages with a little data, grows the data (customers, and many
contacts, tags, interactions, tasks and history entries each), requests them again and
checks both counts are equal and within a fixed budget (the measured count; a page that
starts to query per row fails here). Speed itself is measured by `make bench`.
"""

from datetime import timedelta

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Tag
from customers.selectors import _field_label, _readable, customer_history, search_customers
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    TagFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

# The budgets, as measured (Django 5.2, PostgreSQL and SQLite alike). Every page spends 5
# on the session, the user, the user's permissions (2) and the "My tasks" badge.
LIST_QUERIES = 14  # count, page, its tags; owners (once) and tags for the filter and bulk forms,
# saved views; validating an owner and tags filter adds one query each. (The filter sidebar's
# tags are read once, for its key: crm/lib/fragments.py; it asked whether any exist too.)
DETAIL_QUERIES = 31  # customer, tags, consents, contacts, timeline (11: one per source or
# group of kinds of one table, crm/lib/timeline.py; 17 before issue 18), history (3), forms;
# and the panels rendered in the page (deals 1, value 1 without a run, loyalty 3); the
# customer's files and the timeline's files (2)
SEARCH_QUERIES = 9  # one per kind found (customers, contacts, deals, tickets); htmx: 8
MY_TASKS_QUERIES = 7  # + count and page (with the customers joined)


def _counts(client, urls, budget, assert_max_queries, *, headers=None) -> dict[str, int]:
    counts = {}
    for url in urls:
        with assert_max_queries(budget) as captured:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        counts[url] = len(captured)
    return counts


def _warm_up(client, urls, headers=None):
    """The first request of a process fills caches (content types, translations)."""
    for url in urls:
        client.get(url, headers=headers)


def _add_customers(count, *, owners, tags, start=0):
    """Customers that match the list's filters, with tags, contacts and activity each."""
    customers = []
    for n in range(count):
        customer = CustomerFactory(
            name=f"Acme {start + n:03d}",
            kind=Customer.Kind.COMPANY,
            region="Guangdong",
            stage=Customer.Stage.CUSTOMER if n % 2 else Customer.Stage.LEAD,
            owner=owners[n % len(owners)],
        )
        customer.tags.add(*tags)
        ContactFactory.create_batch(2, customer=customer)
        InteractionFactory.create_batch(3, customer=customer)
        TaskFactory(customer=customer, assignee=owners[n % len(owners)])
        customers.append(customer)
    return customers


def _grow_history(customer, tags, count):
    """Field and tag changes, as simple-history records them on each save and tag change."""
    for n in range(count):
        if n % 3 == 0:
            customer.tags.remove(tags[n % len(tags)])
        elif n % 3 == 1:
            customer.tags.add(tags[n % len(tags)])
        else:
            customer.notes = f"Called {n} times"
            customer.stage = Customer.Stage.PROSPECT if n % 2 else Customer.Stage.CUSTOMER
            customer.save()


def test_customer_list_queries_do_not_grow(
    rep, manager, manager_client, rep_client, django_assert_max_num_queries
):
    tags = [TagFactory(name="VIP"), TagFactory(name="Wholesale")]
    _add_customers(2, owners=[rep, manager], tags=tags)
    list_url = reverse("customers:customer-list")
    urls = [
        list_url,
        f"{list_url}?stage=lead&stage=customer&region=guangdong&sort=-updated",
        f"{list_url}?owner={rep.pk}&tags={tags[0].pk}&tags={tags[1].pk}&sort=region",
        f"{list_url}?q=acme&kind=company&sort=-name&page=2",
        f"{list_url}?q=example.com&is_key_account=false",
    ]
    mine = [f"{list_url}?mine=true", f"{list_url}?mine=true&q=acme&sort=-updated"]
    _warm_up(manager_client, urls)
    _warm_up(rep_client, mine)
    small = _counts(manager_client, urls, LIST_QUERIES, django_assert_max_num_queries)
    small_mine = _counts(rep_client, mine, LIST_QUERIES, django_assert_max_num_queries)

    tags += [TagFactory(name=f"Tag {n}") for n in range(6)]
    _add_customers(38, owners=[rep, manager], tags=tags, start=2)
    assert Customer.objects.count() == 40
    large = _counts(manager_client, urls, LIST_QUERIES, django_assert_max_num_queries)
    large_mine = _counts(rep_client, mine, LIST_QUERIES, django_assert_max_num_queries)
    assert large == small
    assert large_mine == small_mine


def test_customer_page_queries_do_not_grow(
    rep, manager, manager_client, rep_client, django_assert_max_num_queries
):
    tags = [TagFactory(name=f"Tag {n}") for n in range(8)]
    customer = CustomerFactory(kind=Customer.Kind.COMPANY, owner=rep)
    customer.tags.add(tags[0])
    ContactFactory(customer=customer)
    InteractionFactory(customer=customer, logged_by=rep)
    TaskFactory(customer=customer, assignee=rep)
    _grow_history(customer, tags, 2)
    urls = [reverse("customers:customer-detail", args=[customer.pk])]
    _warm_up(manager_client, urls)
    _warm_up(rep_client, urls)
    small = _counts(manager_client, urls, DETAIL_QUERIES, django_assert_max_num_queries)
    small_rep = _counts(rep_client, urls, DETAIL_QUERIES, django_assert_max_num_queries)

    _add_customers(39, owners=[rep, manager], tags=tags)
    customer.tags.add(*tags[1:])
    ContactFactory.create_batch(8, customer=customer)
    now = timezone.now()
    for n in range(60):  # more than the timeline shows
        InteractionFactory(
            customer=customer,
            logged_by=(rep, manager)[n % 2],
            contact=customer.contacts.first() if n % 3 else None,
            occurred_at=now - timedelta(hours=n),
        )
        TaskFactory(
            customer=customer,
            assignee=(rep, manager)[n % 2],
            due_date=now.date() + timedelta(days=n - 30),
            done=n % 4 == 0,
        )
    _grow_history(customer, tags, 40)  # more than the history panel shows
    assert customer.history.count() > 40
    large = _counts(manager_client, urls, DETAIL_QUERIES, django_assert_max_num_queries)
    large_rep = _counts(rep_client, urls, DETAIL_QUERIES, django_assert_max_num_queries)
    assert large == small
    assert large_rep == small_rep


def test_customer_history_shows_what_diff_against_shows(rep):
    """customer_history() reads the tag rows of all entries in one query: same result."""
    tags = [TagFactory(name=f"Tag {n}") for n in range(4)]
    customer = CustomerFactory(owner=rep)
    customer.tags.add(tags[3])
    _grow_history(customer, tags, 14)
    for limit in (1, 5, 20, 50):
        assert customer_history(customer, limit=limit) == _history_by_diff_against(customer, limit)
    changed = {c["field"] for entry in customer_history(customer) for c in entry["changes"]}
    assert {"tags", "notes", "lifecycle stage"} <= changed


def _history_by_diff_against(customer, limit):
    """The panel as simple-history's diff_against() computes it, two queries per entry."""
    records = list(customer.history.order_by("-history_date")[: limit + 1])
    names = {"tags": dict(Tag.objects.values_list("pk", "name")), "owner": {}}
    entries = []
    for newer, older in zip(records[:limit], [*records[1:], None][:limit], strict=True):
        changes = newer.diff_against(older).changes if older is not None else []
        entries.append(
            {
                "when": newer.history_date,
                "user": newer.history_user,
                "type": newer.get_history_type_display(),
                "changes": [
                    {
                        "field": _field_label(c.field),
                        "old": _readable(c.field, c.old, names),
                        "new": _readable(c.field, c.new, names),
                    }
                    for c in changes
                ],
            }
        )
    return entries


def test_global_search_queries_do_not_grow(
    rep, manager, manager_client, django_assert_max_num_queries
):
    tags = [TagFactory(name="VIP")]
    _add_customers(2, owners=[rep, manager], tags=tags)
    search = reverse("customers:search")
    urls = [f"{search}?q=acme", f"{search}?q=example.com", f"{search}?q=138"]
    htmx = {"HX-Request": "true"}
    _warm_up(manager_client, urls)
    _warm_up(manager_client, urls, headers=htmx)
    small = _counts(manager_client, urls, SEARCH_QUERIES, django_assert_max_num_queries)
    small_htmx = _counts(
        manager_client, urls, SEARCH_QUERIES, django_assert_max_num_queries, headers=htmx
    )

    _add_customers(38, owners=[rep, manager], tags=tags, start=2)  # more than the 20 shown
    large = _counts(manager_client, urls, SEARCH_QUERIES, django_assert_max_num_queries)
    large_htmx = _counts(
        manager_client, urls, SEARCH_QUERIES, django_assert_max_num_queries, headers=htmx
    )
    assert large == small
    assert large_htmx == small_htmx


def test_my_tasks_queries_do_not_grow(rep, manager, rep_client, django_assert_max_num_queries):
    customers = [CustomerFactory(owner=rep) for _ in range(2)]
    for customer in customers:
        TaskFactory(customer=customer, assignee=rep)
        TaskFactory(customer=customer, assignee=rep, done=True)
    my_tasks = reverse("customers:my-tasks")
    urls = [my_tasks, f"{my_tasks}?show=all", f"{my_tasks}?show=all&page=2"]
    _warm_up(rep_client, urls)
    small = _counts(rep_client, urls, MY_TASKS_QUERIES, django_assert_max_num_queries)

    today = timezone.localdate()
    customers += [CustomerFactory(owner=rep) for _ in range(38)]
    for n, customer in enumerate(customers):  # 120 tasks: more than one page of 50
        TaskFactory(customer=customer, assignee=rep, due_date=today - timedelta(days=n))
        TaskFactory(customer=customer, assignee=rep, due_date=today + timedelta(days=n))
        TaskFactory(customer=customer, assignee=rep, done=True)
        TaskFactory(customer=customer, assignee=manager)
    large = _counts(rep_client, urls, MY_TASKS_QUERIES, django_assert_max_num_queries)
    assert large == small


def test_deep_pages_show_the_rows_plain_offset_shows(manager_client, django_assert_max_num_queries):
    """A deep page reads its ids first (DeepPagingQuerySet): same rows, same queries."""
    created = timezone.now() - timedelta(days=30)
    Customer.objects.bulk_create(
        Customer(
            name=f"Customer {n % 40:02d}",  # ties, broken by id
            region=("Guangdong", "Shanghai", "Zhejiang")[n % 3],
            email=f"c{n}@example.com",
            created_at=created + timedelta(minutes=n % 200),
        )
        for n in range(640)
    )
    list_url = reverse("customers:customer-list")
    orders = {
        "": ["name", "id"],
        "name": ["name", "id"],
        "-name": ["-name", "-id"],
        "region": ["region", "name", "id"],
        "-region": ["-region", "-name", "-id"],
        "-updated": ["-updated_at", "-id"],
        "created": ["created_at", "id"],
    }
    _warm_up(manager_client, [list_url])
    for sort, ordering in orders.items():
        first = _counts(
            manager_client, [f"{list_url}?sort={sort}"], LIST_QUERIES, django_assert_max_num_queries
        )
        for page in (21, 26):  # offsets 500 and 625 (the last page)
            url = f"{list_url}?sort={sort}&page={page}&q=example.com"
            deep = _counts(manager_client, [url], LIST_QUERIES, django_assert_max_num_queries)
            assert list(deep.values()) == list(first.values()), url
            with django_assert_max_num_queries(LIST_QUERIES) as captured:
                shown = [c.pk for c in manager_client.get(url).context["page"]]
            assert any(f"OFFSET {(page - 1) * 25})" in q["sql"] for q in captured), url
            start = (page - 1) * 25
            expected = list(Customer.objects.order_by(*ordering).values_list("pk", flat=True))
            assert shown == expected[start : start + 25], url


@pytest.mark.usefixtures("postgres")
def test_short_chinese_search_uses_its_index_without_changing_results():
    names = ["王伟", "王芳", "李王明", "张伟", "Wang Wei", "欧阳娜娜", "ª Studio", "王"]
    for n, name in enumerate(names):
        CustomerFactory(name=name, organization="北京王府井百货" if n == 3 else "")
    for term in ["王", "王伟", "伟", "欧阳", "阳娜", "王府", "京", "ª", "W", "王 ", "x王"]:
        condition = (
            Q(name__icontains=term.strip())
            | Q(organization__icontains=term.strip())
            | Q(email__icontains=term.strip())
            | Q(phone__icontains=term.strip())
        )
        expected = set(Customer.objects.filter(condition).values_list("pk", flat=True))
        found = set(search_customers(Customer.objects.all(), term).values_list("pk", flat=True))
        assert found == expected, term
    sql = str(search_customers(Customer.objects.all(), "王伟").query)
    assert "customer_search_grams" in sql
    assert "customer_search_grams" not in str(search_customers(Customer.objects.all(), "ab").query)
