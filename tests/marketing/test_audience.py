"""Audience rules against a known data set, consent exclusion included."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from marketing.audience import audience_count, audience_queryset, audience_sample
from marketing.audience_rule import AudienceRule
from marketing.services.loyalty import loyalty_adjust
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    CustomerValueFactory,
    OrderFactory,
    SegmentRunFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Eight customers whose membership of each audience is known."""
    old = SegmentRunFactory(is_current=False)
    run = SegmentRunFactory(is_current=True)
    vip = TagFactory(name="vip")
    c = {}
    c["a"] = CustomerFactory(name="Alice", is_key_account=True, region="Guangdong")
    c["a"].tags.add(vip, TagFactory(name="other"))
    c["b"] = CustomerFactory(name="Bob", region="Beijing")
    c["c"] = CustomerFactory(name="Carol")  # withdrew email consent
    c["d"] = CustomerFactory(name="Dan")  # never consented
    c["e"] = CustomerFactory(name="Eve")  # at risk only in the old run
    c["f"] = CustomerFactory(name="Fay")  # SMS consent only
    c["g"] = CustomerFactory(name="Gus", email="")  # consented, no address
    c["h"] = CustomerFactory(name="Hal", stage=Customer.Stage.LEAD)  # no analytics values
    for key in "abegh":
        ConsentFactory(customer=c[key], channel="email")
    ConsentFactory(customer=c["c"], channel="email", granted=False)
    ConsentFactory(customer=c["f"], channel="sms")
    values = {
        "a": ("at_risk", "500.00", 0.3),
        "b": ("at_risk", "50.00", 0.9),
        "c": ("at_risk", "50.00", 0.9),
        "d": ("at_risk", "50.00", 0.9),
        "e": ("champions", "900.00", 0.95),
        "f": ("at_risk", "50.00", 0.9),
        "g": ("at_risk", "50.00", 0.9),
    }
    for key, (segment, ltv, alive) in values.items():
        CustomerValueFactory(
            run=run, customer=c[key], segment=segment, predicted_ltv=Decimal(ltv),
            probability_alive=alive,
        )  # fmt: skip
    CustomerValueFactory(run=old, customer=c["e"], segment="at_risk")
    now = timezone.now()
    OrderFactory(customer=c["a"], ordered_at=now - timedelta(days=10))
    OrderFactory(customer=c["a"], ordered_at=now - timedelta(days=5))
    OrderFactory(customer=c["b"], ordered_at=now - timedelta(days=60))
    return c


def names(rule, channel="email"):
    return sorted(audience_queryset(rule, channel=channel).values_list("name", flat=True))


def test_every_criterion_against_the_known_data_set(world):
    assert names({}) == ["Alice", "Bob", "Eve", "Hal"]
    assert names({"segments": ["at_risk"]}) == ["Alice", "Bob"]
    assert names({"segments": ["at_risk", "champions"]}) == ["Alice", "Bob", "Eve"]
    assert names({"segments": ["at_risk"]}, channel="sms") == ["Fay"]
    assert names({"ltv_min": "100"}) == ["Alice", "Eve"]
    assert names({"ltv_min": "100", "ltv_max": "600"}) == ["Alice"]
    assert names({"alive_max": 0.5}) == ["Alice"]
    assert names({"alive_min": 0.5}) == ["Bob", "Eve"]
    assert names({"regions": ["beijing"]}) == ["Bob"]
    assert names({"regions": ["BEIJING", "guangdong"]}) == ["Alice", "Bob", "Eve", "Hal"]
    assert names({"tags": [world["a"].tags.get(name="vip").pk]}) == ["Alice"]
    assert names({"key_accounts_only": True}) == ["Alice"]
    assert names({"stages": ["lead"]}) == ["Hal"]
    assert names({"purchased_within_days": 30}) == ["Alice"]
    assert names({"purchased_within_days": 90}) == ["Alice", "Bob"]
    assert names({"segments": ["at_risk"], "purchased_within_days": 30}) == ["Alice"]
    loyalty_adjust(customer=world["b"], points=500, reason="gift", by=None)
    loyalty_adjust(customer=world["h"], points=499, reason="gift", by=None)
    assert names({"points_min": 500}) == ["Bob"]


def test_consent_and_reachability_exclude_customers_on_every_channel(world):
    # Carol withdrew, Dan never consented, Gus has no email: none of them, whatever the rule.
    for rule in ({}, {"segments": ["at_risk"]}, {"regions": ["guangdong"]}):
        assert not {"Carol", "Dan", "Gus"} & set(names(rule))
    assert names({}, channel="phone") == []  # nobody consented to calls
    ConsentFactory(customer=world["d"], channel="phone")
    assert names({}, channel="phone") == ["Dan"]
    ConsentFactory(customer=world["d"], channel="mail")
    assert names({}, channel="mail") == []  # no street address
    Customer.objects.filter(pk=world["d"].pk).update(address="1 Main St")
    assert names({}, channel="mail") == ["Dan"]


def test_withdrawing_consent_removes_the_customer_at_once(world):
    from customers.services import consent_set

    consent_set(customer=world["a"], channel="email", granted=False, source="test")
    assert "Alice" not in names({})


def test_only_the_current_run_counts_and_no_run_matches_nobody(world):
    from analytics.models import SegmentRun

    assert "Eve" not in names({"segments": ["at_risk"]})
    SegmentRun.objects.update(is_current=False)
    assert names({"segments": ["at_risk"]}) == []
    assert names({"ltv_min": "0"}) == []
    assert names({}) == ["Alice", "Bob", "Eve", "Hal"]  # rules without analytics still work


def test_count_and_sample_match_the_queryset_without_duplicates(world):
    rule = {"tags": [t.pk for t in world["a"].tags.all()], "purchased_within_days": 30}
    # Alice has two matching tags and two orders in the window: still one recipient.
    assert audience_count(rule, "email") == 1
    assert audience_count({}, "email") == 4
    sample = [c.name for c in audience_sample({}, "email", n=3)]
    assert len(sample) == 3 and sample == sorted(sample)
    assert set(sample) <= {"Alice", "Bob", "Eve", "Hal"}
    assert [c.name for c in audience_sample({"stages": ["lead"]}, "email")] == ["Hal"]


@pytest.mark.parametrize("channel", ["email", "sms", "phone", "mail", "social"])
def test_the_count_from_the_consents_is_the_querysets_on_every_channel(world, channel):
    # audience_count counts consents, not customers: it must agree with the queryset the
    # campaign is sent to, whoever withdrew, bounced, lost their address or was erased.
    from customers.services import consent_set

    for key in "abcdefgh":
        for other in ("sms", "phone", "mail", "social"):
            consent_set(customer=world[key], channel=other, granted=key != "c", source="t")
    Customer.objects.filter(pk=world["b"].pk).update(email_bounced=world["b"].email)
    Customer.objects.filter(pk=world["e"].pk).update(phone="", address="")
    Customer.objects.filter(pk__in=[world["a"].pk, world["h"].pk]).update(address="1 Main St")
    vip = world["a"].tags.get(name="vip").pk
    rules = [
        {},
        {"segments": ["at_risk"]},
        {"stages": ["customer"]},
        {"stages": ["lead"], "regions": ["guangdong", "beijing"]},
        {"key_accounts_only": True, "tags": [vip]},
        {"purchased_within_days": 90, "ltv_max": "600"},
    ]
    for rule in rules:
        expected = audience_queryset(rule, channel=channel).count()
        assert audience_count(rule, channel) == expected, rule
    assert audience_count({}, "email") == 3  # Alice, Eve, Hal: Bob's address bounced


def test_count_is_one_query_of_semi_joins_on_the_current_run(world, django_assert_num_queries):
    from analytics.selectors import current_run

    rule = AudienceRule.from_dict(
        {"segments": ["at_risk"], "tags": [1], "purchased_within_days": 30, "ltv_min": "1"}
    )
    with CaptureQueriesContext(connection) as queries:
        audience_count(rule, "email")
    selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 2  # the current run's id, then the count
    sql = selects[-1].upper()
    # The consents are counted (one per customer and channel). Each criterion is a
    # subquery (IN (SELECT ...)), reachability an anti-join (NOT EXISTS): no join
    # multiplies customers, and the analytics one is pinned to the current run, so it
    # reads the (run, segment) index.
    assert sql.startswith('SELECT COUNT(*) AS "__COUNT" FROM "CUSTOMERS_CONSENT"')
    assert sql.count(" IN (SELECT") == 3
    assert sql.count("NOT EXISTS(SELECT") == 1
    assert " JOIN " not in sql
    assert f'"RUN_ID" = {current_run().pk}' in sql.replace("`", '"')


@pytest.mark.parametrize(
    "data",
    [
        {"colour": ["red"]},
        {"segments": ["whales"]},
        {"segments": "at_risk"},
        {"stages": ["king"]},
        {"tags": ["vip"]},
        {"tags": [True]},
        {"tags": [2**70]},
        {"regions": ["a\x00b"]},
        {"regions": ["x" * 101]},
        {"regions": ["r"] * 101},
        {"key_accounts_only": "yes"},
        {"ltv_min": "abc"},
        {"ltv_min": "NaN"},
        {"ltv_min": "1e30"},
        {"ltv_min": -1},
        {"ltv_min": "200", "ltv_max": "100"},
        {"alive_min": 1.5},
        {"alive_min": "0.5"},
        {"alive_min": 0.8, "alive_max": 0.2},
        {"purchased_within_days": 0},
        {"purchased_within_days": 10**9},
        {"purchased_within_days": 1.5},
        {"points_min": 0},
        {"points_min": "5"},
        {"tiers": ["gold"]},
        {"tiers": [True]},
        {"tiers": 3},
        ["segments"],
    ],
)
def test_bad_rules_are_refused(data):
    with pytest.raises(ValidationError):
        AudienceRule.from_dict(data)


def test_rule_round_trips_through_json():
    data = {
        "segments": ["lost", "at_risk"],
        "regions": [" Guangdong "],
        "ltv_min": 10,
        "alive_max": 1,
        "key_accounts_only": False,
        "purchased_within_days": 7,
    }
    stored = AudienceRule.from_dict(data).to_dict()
    assert stored == {
        "segments": ["at_risk", "lost"],
        "regions": ["Guangdong"],
        "ltv_min": "10.00",
        "alive_max": 1.0,
        "purchased_within_days": 7,
    }
    assert AudienceRule.from_dict(stored).to_dict() == stored


def test_loyalty_tiers_as_last_refreshed(world):
    from marketing.models import LoyaltyTier

    tier = dict(LoyaltyTier.objects.values_list("name", "pk"))
    loyalty_adjust(customer=world["b"], points=1200, reason="gift", by=None)  # Silver
    loyalty_adjust(customer=world["e"], points=10, reason="gift", by=None)  # Bronze
    assert names({"tiers": [tier["Silver"]]}) == ["Bob"]
    assert names({"tiers": [tier["Gold"], tier["Silver"]]}) == ["Bob"]
    # Bronze is the base tier: customers without an account are in it too.
    assert names({"tiers": [tier["Bronze"]]}) == ["Alice", "Eve", "Hal"]
    LoyaltyTier.objects.filter(pk=tier["Bronze"]).update(minimum_points=5)
    assert names({"tiers": [tier["Bronze"]]}) == ["Eve"]  # no longer the base tier
    assert names({"tiers": [99999]}) == []


def test_the_base_tier_leaves_out_accounts_in_other_tiers_or_none(world):
    # "Outside the tiers" is named by the other tiers' ids (and no tier): an account moved
    # to a tier created since, or whose tier was deleted, is not in the base tier.
    from marketing.models import LoyaltyAccount, LoyaltyTier

    bronze = LoyaltyTier.objects.get(name="Bronze").pk
    loyalty_adjust(customer=world["b"], points=10, reason="gift", by=None)
    loyalty_adjust(customer=world["e"], points=10, reason="gift", by=None)
    assert names({"tiers": [bronze]}) == ["Alice", "Bob", "Eve", "Hal"]
    platinum = LoyaltyTier.objects.create(name="Platinum", rank=9, minimum_points=90000)
    LoyaltyAccount.objects.filter(customer=world["b"]).update(tier=platinum)
    LoyaltyAccount.objects.filter(customer=world["e"]).update(tier=None)
    assert names({"tiers": [bronze]}) == ["Alice", "Hal"]
    assert audience_count({"tiers": [bronze]}, "email") == 2
    assert names({"tiers": [bronze, platinum.pk]}) == ["Alice", "Bob", "Hal"]


def test_an_erased_customer_leaves_every_audience(world, manager):
    from customers.erasure import customer_erase

    assert audience_count({"segments": ["at_risk"]}, "email") == 2
    customer_erase(customer=world["b"], erased_by=manager)
    assert audience_count({}, "email") == 3
    assert audience_count({"segments": ["at_risk"]}, "email") == 1
    assert "Bob" not in {c.name for c in audience_sample({}, "email")}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_the_merge_join_setting_does_not_outlive_the_count(world):
    def planner_settings():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_hashjoin'),"
                " current_setting('max_parallel_workers_per_gather')"
            )
            return cursor.fetchone()

    before = planner_settings()
    assert audience_count({"segments": ["at_risk"]}, "email") == 2
    assert [c.name for c in audience_sample({}, "email")] == ["Alice", "Bob", "Eve", "Hal"]
    assert planner_settings() == before == ("on", before[1])
