"""The stored possible duplicates: the refresh (beat, import, “Refresh now”), what removes a
pair at once (a dismissal, a merge, an erasure), the page's state, pages and permissions."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.conf import settings
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from customers.duplicate_refresh import duplicate_refresh_state, duplicates_refresh
from customers.duplicates import duplicate_candidates
from customers.models import Customer, DuplicateCandidate, DuplicateRefresh
from customers.services import customers_merge
from tests.customers.test_import import HEADER, apply, csv_bytes, upload_ok
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:duplicate-list")
REFRESH = reverse("customers:duplicate-refresh")


def _listed() -> set[tuple[int, int]]:
    return {(p.first_id, p.second_id) for p in duplicate_candidates()}


def test_refresh_replaces_the_stored_pairs():
    a, b = CustomerFactory(name="Hazel Watts"), CustomerFactory(name="Hazel Watts")
    assert duplicates_refresh() == 1
    assert _listed() == {(a.pk, b.pk)}
    Customer.objects.filter(pk=b.pk).update(name="Somebody Else")
    c = CustomerFactory(name="Hazel Watts")
    assert _listed() == {(a.pk, b.pk)}  # stored: the page never searches
    assert duplicates_refresh() == 1
    assert _listed() == {(a.pk, c.pk)}
    state = duplicate_refresh_state()
    assert state.finished_at is not None and state.pairs_found == 1


def test_the_page_reads_only_the_stored_pairs(manager_client):
    CustomerFactory(name="Acme Ltd"), CustomerFactory(name="ACME ltd.")
    page = manager_client.get(LIST).content.decode()
    assert "No possible duplicates." in page and "Not checked yet." in page
    duplicates_refresh()
    page = manager_client.get(LIST).content.decode()
    assert "Acme Ltd" in page and "Last checked:" in page


def test_a_dismissal_and_a_merge_take_the_pair_off_at_once(manager, manager_client):
    a, b = CustomerFactory(name="Twin One"), CustomerFactory(name="Twin One")
    c, d = CustomerFactory(name="Twin Two"), CustomerFactory(name="Twin Two")
    duplicates_refresh()
    assert _listed() == {(a.pk, b.pk), (c.pk, d.pk)}
    manager_client.post(reverse("customers:duplicate-dismiss"), {"first": b.pk, "second": a.pk})
    assert _listed() == {(c.pk, d.pk)}
    customers_merge(kept=c, duplicate=d, merged_by=manager)
    assert _listed() == set()
    assert "No possible duplicates." in manager_client.get(LIST).content.decode()


def test_a_customer_erased_since_the_refresh_is_not_listed(manager_client):
    a, b = CustomerFactory(name="Twin One"), CustomerFactory(name="Twin One")
    duplicates_refresh()
    Customer.objects.filter(pk=b.pk).update(erased_at=timezone.now())
    assert _listed() == set()
    assert manager_client.get(LIST).status_code == 200
    assert DuplicateCandidate.objects.filter(first=a).exists()  # gone at the next refresh


def test_refresh_now_runs_the_job_and_the_page_shows_when(manager_client):
    a, b = CustomerFactory(name="Twin One"), CustomerFactory(name="Twin One")
    with TestCase.captureOnCommitCallbacks(execute=True):  # queued on commit, inline here
        response = manager_client.post(REFRESH)
    assert response.status_code == 302
    assert _listed() == {(a.pk, b.pk)}
    page = manager_client.get(LIST).content.decode()
    assert "Last checked:" in page and "A new search is running" not in page


def test_a_running_refresh_is_shown_and_not_queued_twice(manager_client):
    DuplicateRefresh.objects.create(pk=1, requested_at=timezone.now())
    assert "A new search is running" in manager_client.get(LIST).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        manager_client.post(REFRESH)
    assert callbacks == []
    # one that stopped long ago (its worker died) no longer blocks the button
    DuplicateRefresh.objects.filter(pk=1).update(requested_at=timezone.now() - timedelta(hours=2))
    assert "A new search is running" not in manager_client.get(LIST).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        manager_client.post(REFRESH)
    assert len(callbacks) == 1 and duplicate_refresh_state().finished_at is not None


@pytest.mark.parametrize("persona", ["rep_client", "agent_client", "marketer_client"])
def test_other_roles_may_not_refresh(persona, request):
    client = request.getfixturevalue(persona)
    CustomerFactory(name="Twin One"), CustomerFactory(name="Twin One")
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(REFRESH).status_code == 403
    assert not DuplicateCandidate.objects.exists()
    assert client.get(REFRESH).status_code in (403, 405)


def test_refresh_is_post_only(manager_client):
    assert manager_client.get(REFRESH).status_code == 405


def test_an_applied_import_looks_for_duplicates_again(manager_client):
    old = CustomerFactory(name="Hazel Watts", email="hazel@example.com")
    rows = [HEADER, ["", "Watts, Hazel", "h.watts@example.com", "lead", "person", "", "", ""]]
    apply(manager_client, upload_ok(manager_client, csv_bytes(rows)), "all_or_nothing")
    new = Customer.objects.get(name="Watts, Hazel")
    assert _listed() == {(old.pk, new.pk)}


def test_beat_runs_the_refresh():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "customers.tasks.refresh_duplicates" in tasks


def test_the_list_paginates_in_constant_queries(manager_client, django_assert_max_num_queries):
    for n in range(30):  # pairs by email; names nothing alike
        for _twin in range(2):
            CustomerFactory(name=uuid4().hex, email=f"twin{n:02d}@example.com")
    duplicates_refresh()
    with django_assert_max_num_queries(12):
        first = manager_client.get(LIST)
    second = manager_client.get(LIST, {"page": "2"})
    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert "twin29@" in first.content.decode() and "twin00@" in second.content.decode()


def test_the_refresh_plans_its_query_for_whole_tables_without_statistics(postgres):
    """After the demo's seeding (or an import into a new database) the table had no
    statistics: the planner took "not erased" for 0.5 % of the rows and joined the phones by
    a nested loop over the trigram index, one probe per customer (the demo's 100,000 took
    over 12 minutes, against 3.5 s). The refresh plans without nested loops."""
    from django.db import connection

    from customers.duplicate_refresh import pairs_plan

    with connection.cursor() as cursor:  # a table never analyzed (rolled back with the test)
        cursor.execute(
            "DELETE FROM pg_statistic WHERE starelid = 'customers_customer'::regclass; "
            "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE relname = 'customers_customer'"
        )
    Customer.objects.bulk_create(
        Customer(name=f"Bulk {n}", email=f"bulk{n}@example.com", phone=f"+1 555 {n:07d}")
        for n in range(20_000)
    )
    plan = pairs_plan()
    assert "customer_phone_digits_trgm" not in plan
    assert "Nested Loop" not in plan
