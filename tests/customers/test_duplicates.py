"""Possible duplicates (found in SQL by a refresh, stored, listed), “Not duplicates”, and the
side-by-side merge."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from customers.duplicate_refresh import duplicates_refresh
from customers.duplicates import duplicate_candidates
from customers.merging import MergeGoneError
from customers.models import Customer, CustomerMerge, DuplicateDismissal
from customers.services import customers_merge
from tests.factories import CustomerFactory, DealFactory, InteractionFactory, TicketFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:duplicate-list")


def _pairs():
    """The pairs a refresh run now stores and the list shows."""
    duplicates_refresh()
    return {(p.first_id, p.second_id): p.reason_labels for p in duplicate_candidates()}


def test_pairs_by_email_phone_and_name_each_once():
    a = CustomerFactory(name="Hazel Watts", email="Hazel@Example.com", phone="+86 138 0013 8000")
    b = CustomerFactory(name="Someone Else", email="hazel@example.com", phone="+86-13800138000")
    c = CustomerFactory(name="hazel  watts.", email="other@example.com", phone="+1 555 0100")
    CustomerFactory(name="Unrelated", email="u@example.com", phone="+1 555 0199")
    pairs = _pairs()
    assert set(pairs) == {(a.pk, b.pk), (a.pk, c.pk)}
    assert pairs[(a.pk, b.pk)] == ["Same email", "Same phone"]
    assert pairs[(a.pk, c.pk)] == ["Same name"]


def test_blank_emails_short_phones_and_erased_customers_are_no_pair():
    CustomerFactory(name="One", email="", phone="12345")
    CustomerFactory(name="Two", email="", phone="12345")
    CustomerFactory(name="Gone", email="x@example.com").__class__.objects.filter(
        name="Gone"
    ).update(erased_at="2026-01-01T00:00:00Z")
    CustomerFactory(name="Three", email="x@example.com")
    assert _pairs() == {}


def test_list_shows_pairs_and_dismissal_is_remembered(manager_client):
    a = CustomerFactory(name="Acme Ltd", email="a@acme.test")
    b = CustomerFactory(name="ACME ltd.", email="b@acme.test")
    duplicates_refresh()
    page = manager_client.get(LIST).content.decode()
    assert "Acme Ltd" in page and "ACME ltd." in page and "Same name" in page
    response = manager_client.post(
        reverse("customers:duplicate-dismiss"), {"first": b.pk, "second": a.pk}
    )
    assert response.status_code == 302
    assert DuplicateDismissal.objects.filter(first=a, second=b).exists()
    assert "No possible duplicates." in manager_client.get(LIST).content.decode()
    # dismissing again (a double submit) changes nothing
    manager_client.post(reverse("customers:duplicate-dismiss"), {"first": a.pk, "second": b.pk})
    assert DuplicateDismissal.objects.count() == 1


@pytest.mark.parametrize("persona", ["rep_client", "agent_client", "marketer_client"])
def test_other_roles_may_not_see_or_dismiss(persona, request):
    client = request.getfixturevalue(persona)
    a, b = CustomerFactory(name="Same"), CustomerFactory(name="Same")
    assert client.get(LIST).status_code == 403
    dismiss = reverse("customers:duplicate-dismiss")
    assert client.post(dismiss, {"first": a.pk, "second": b.pk}).status_code == 403
    merge = reverse("customers:customer-merge", args=[a.pk])
    assert client.get(merge, {"duplicate": b.pk}).status_code == 403


@pytest.mark.parametrize("value", ["²", "١٢", str(10**30), "a\x00b", ""])
def test_hostile_dismiss_values_never_fail(manager_client, value):
    a = CustomerFactory()
    response = manager_client.post(
        reverse("customers:duplicate-dismiss"), {"first": a.pk, "second": value, "page": value}
    )
    assert response.status_code in (302, 404)
    assert not DuplicateDismissal.objects.exists()


def test_list_query_count_does_not_grow_with_pairs(manager_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(LIST).status_code == 200
        return len(captured)

    for n in range(3):
        CustomerFactory(name=f"Twin {n}"), CustomerFactory(name=f"Twin {n}")
    duplicates_refresh()
    few = queries()
    for n in range(3, 40):
        CustomerFactory(name=f"Twin {n}"), CustomerFactory(name=f"Twin {n}")
    duplicates_refresh()
    assert queries() == few


def test_side_by_side_merge_takes_chosen_values_and_keeps_every_email_and_phone(
    manager, manager_client
):
    kept = CustomerFactory(name="Hazel Watts", email="hazel@old.test", phone="+86 111 1111")
    duplicate = CustomerFactory(
        name="Hazel Watts", email="hazel@new.test", phone="+86 222 2222", city="Beijing"
    )
    InteractionFactory(customer=duplicate)
    DealFactory(customer=duplicate)
    TicketFactory(customer=duplicate)
    url = reverse("customers:customer-merge", args=[kept.pk])
    review = manager_client.get(url, {"duplicate": duplicate.pk})
    choices = review.context["choices"]
    assert {"take_email", "take_phone", "take_city"} <= set(choices.fields)
    assert "take_name" not in choices.fields  # the same on both
    response = manager_client.post(
        url,
        {"duplicate": duplicate.pk, "confirm": "1", "take_email": "duplicate", "take_city": "kept"},
    )
    assert response.status_code == 302
    kept.refresh_from_db()
    assert kept.email == "hazel@new.test" and kept.city == "Shenzhen"
    assert kept.phone == "+86 111 1111"
    contacts = list(kept.contacts.values_list("email", "phone"))
    assert ("hazel@old.test", "") in contacts  # the email given up
    assert ("", "+86 222 2222") in contacts  # the duplicate's phone
    assert not kept.interactions.filter(channel="in_person").exists()
    merge = CustomerMerge.objects.get(customer=kept)
    assert merge.moved == {
        "customers.interaction": 1,
        "sales.deal": 1,
        "service.ticket": 1,
        "fields": ["email"],
    }
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MERGE).count() == 1
    page = manager_client.get(kept.get_absolute_url()).content.decode()
    assert "Merged the duplicate" in page and "1 deal" in page


def test_double_submit_merges_once(manager_client):
    kept, duplicate = CustomerFactory(), CustomerFactory()
    url = reverse("customers:customer-merge", args=[kept.pk])
    data = {
        "duplicate": duplicate.pk,
        "confirm": "1",
        "submit_token": "8b9d7c5e-0000-4000-8000-000000000001",
    }
    first = manager_client.post(url, data)
    second = manager_client.post(url, data)
    assert first.status_code == 302 and second.status_code == 302
    assert CustomerMerge.objects.count() == 1
    assert not Customer.objects.filter(pk=duplicate.pk).exists()


def test_hostile_choice_is_refused_without_merging(manager_client):
    kept = CustomerFactory(email="a@x.test")
    duplicate = CustomerFactory(email="b@x.test")
    url = reverse("customers:customer-merge", args=[kept.pk])
    response = manager_client.post(
        url, {"duplicate": duplicate.pk, "confirm": "1", "take_email": "a\x00b"}
    )
    assert response.status_code == 200
    assert Customer.objects.filter(pk=duplicate.pk).exists()


def test_merging_a_duplicate_merged_away_meanwhile_is_a_clear_error(manager):
    kept, duplicate, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    customers_merge(kept=third, duplicate=duplicate, merged_by=manager)  # someone else, first
    with pytest.raises(MergeGoneError):
        customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    assert Customer.objects.filter(pk=kept.pk).exists()


def test_merge_locks_both_customers_in_one_query_in_key_order(manager):
    """Two locks taken one by one (kept, then duplicate) deadlock A<-B against B<-A."""
    kept, duplicate = CustomerFactory(), CustomerFactory()
    with CaptureQueriesContext(connection) as queries:
        customers_merge(kept=duplicate, duplicate=kept, merged_by=manager)
    customer_table = Customer._meta.db_table
    locks = [
        q["sql"]
        for q in queries.captured_queries
        if f'FROM "{customer_table}"' in q["sql"] and "FOR UPDATE" in q["sql"]
    ]
    if connection.vendor == "postgresql":
        assert len(locks) == 1 and " IN (" in locks[0] and "ORDER BY" in locks[0]


SIMILAR_NAMES = [
    ("Hazel Watts", "Hazel Wats", "Similar name (77%)"),
    ("Maria Lopez", "Lopez, Maria", "Similar name (100%)"),
    ("Acme Corp.", "ACME Corporation Ltd", "Similar name (100%)"),
    ("Mr Scott Hardy", "Scott Hardy", "Similar name (100%)"),
    ("Jonathan Baker", "Jonathon Baker", "Similar name (67%)"),
]


def test_similar_names_pair_with_their_score_in_any_word_order():
    made = [(CustomerFactory(name=a), CustomerFactory(name=b), why) for a, b, why in SIMILAR_NAMES]
    CustomerFactory(name="Peter Watts"), CustomerFactory(name="Peter Watson")  # 56%: no pair
    CustomerFactory(name="王伟"), CustomerFactory(name="王玮")  # no key: same name only
    assert _pairs() == {(a.pk, b.pk): [why] for a, b, why in made}


def test_a_dismissed_similar_pair_stays_dismissed(manager, manager_client):
    a, b = CustomerFactory(name="Hazel Watts"), CustomerFactory(name="Hazel Wats")
    duplicates_refresh()
    assert "Similar name (77%)" in manager_client.get(LIST).content.decode()
    manager_client.post(reverse("customers:duplicate-dismiss"), {"first": b.pk, "second": a.pk})
    assert _pairs() == {}
    Customer.objects.filter(pk=b.pk).update(name="Watts Hazel")  # renamed: still dismissed
    assert _pairs() == {}


def test_similar_names_are_found_among_many_others():
    """Each key is compared with its neighbours in both orders, so a typo in either word of
    a name among many others with the same first or last word is still found."""
    for n in range(30):
        CustomerFactory(name=f"Hazel Surname{n:02d}")
        CustomerFactory(name=f"Given{n:02d} Watts")
    first, second = CustomerFactory(name="Hazel Watts"), CustomerFactory(name="Hazle Watts")
    third = CustomerFactory(name="Hazel Wattz")
    pairs = _pairs()
    assert (first.pk, second.pk) in pairs and (first.pk, third.pk) in pairs


def test_name_keys_and_similarity_agree_with_postgresql(postgres):
    from customers.name_keys import name_key, trigram_similarity

    names = [name for pair in SIMILAR_NAMES for name in pair[:2]]
    names += ["Hazel Watson", "王伟", "Zhang Wei", "Müller GmbH", "O'Brien & Co", "  ", "İnci"]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(
                "SELECT customer_name_key(%s), similarity(%s, %s)", [name, name, "hazel watts"]
            )
            key, score = cursor.fetchone()
            assert key == name_key(name)
            assert abs(score - trigram_similarity(name, "hazel watts")) < 1e-6
    customer = CustomerFactory(name="Watts, Hazel")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name_key FROM customers_customer WHERE id = %s", [customer.pk])
        assert cursor.fetchone() == ("hazel watts",)  # kept by the trigger
