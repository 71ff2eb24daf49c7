"""Audience count and preview on the customers `make bench-analytics` loaded (1,000,000).

`python manage.py bench_audience` (PostgreSQL): gives 70% of the customers email consent
(and withdraws it for another 10%) unless done, creates one draft campaign per audience
rule below, and measures the campaign's audience fragment (count and a sample of
recipients, marketing:campaign-audience) as a marketer: server time, database time and
queries, beside each rule's floor: the same SELECT statements replayed as plain SQL under
the audience's own planner settings (marketing.audience._merge_joins), without Django. The
segment rules read the current segment run, so run make bench-analytics first.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse

from analytics.selectors import current_run
from customers.models import Consent, Customer
from devtools.bench import (
    ensure_database,
    logged_in_client,
    measure,
    replay_floor,
    report,
    require_postgresql,
)
from devtools.demo.customers import ensure_demo_users
from marketing.audience import _merge_joins
from marketing.models import Campaign, LoyaltyAccount, LoyaltyTier
from marketing.services.campaigns import campaign_create
from marketing.services.loyalty import loyalty_refresh

CONSENT_SOURCE = "bench"
TARGET_MS = 250  # issue 18
RULES = {
    "everyone with consent": {},
    "at risk": {"segments": ["at_risk"]},
    "at risk, LTV 50-500": {"segments": ["at_risk"], "ltv_min": "50", "ltv_max": "500"},
    "champions + loyal": {"segments": ["champions", "loyal"], "alive_min": 0.5},
    "bought in 90 days": {"purchased_within_days": 90},
    "lost, customers only": {"segments": ["lost"], "stages": ["customer"]},
}


class Command(BaseCommand):
    help = "Measures the audience count and preview of email campaigns on 1,000,000 customers."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=50)

    def handle(self, *args, requests, **options):
        require_postgresql("bench_audience")
        ensure_database(self.stdout)
        customers = Customer.objects.count()
        if customers < 100_000 or current_run() is None:
            raise CommandError(
                "Run make bench-analytics first: it loads the customers and segments."
            )
        self._ensure_consent()
        self._ensure_loyalty()
        rules = {**RULES, **_tier_rules()}
        marketer = ensure_demo_users()["marketer"]
        client = logged_in_client(marketer)
        results = []
        for name, rule in rules.items():
            campaign = self._campaign(name, rule, marketer)
            url = reverse("marketing:campaign-audience", args=[campaign.pk])
            results.append(measure(name, client, lambda url=url: url, requests))
        self.stdout.write(f"\n{customers} customers; email consent granted to "
                          f"{Consent.objects.filter(channel='email', granted=True).count()}.")  # fmt: skip
        floors = {r.name: replay_floor(r, around=_merge_joins) for r in results}
        targets = dict.fromkeys(rules, TARGET_MS)
        passed = report(self, results, targets, options["verbosity"], floors=floors)
        self.stdout.write(
            "PASS" if passed else f"FAIL: p95 at or over {TARGET_MS} ms for some audiences"
        )

    def _ensure_consent(self):
        if Consent.objects.filter(source=CONSENT_SOURCE).exists():
            return
        self.stdout.write("Giving 70% of the customers email consent (10% withdrawn)...")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO customers_consent (customer_id, channel, granted, changed_at, source) "
                "SELECT id, 'email', id %% 10 < 7, now(), %s FROM customers_customer "
                "WHERE id %% 10 < 8 ON CONFLICT DO NOTHING",
                [CONSENT_SOURCE],
            )
            cursor.execute("VACUUM ANALYZE customers_consent")

    def _ensure_loyalty(self):
        """The nightly loyalty refresh, timed: accounts, 12-month spend and tiers."""
        if LoyaltyAccount.objects.exists():
            return
        self.stdout.write("Nightly loyalty refresh (accounts for the last 12 months' buyers)...")
        started = time.perf_counter()
        accounts = loyalty_refresh()
        self.stdout.write(f"  {accounts} accounts in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE marketing_loyaltyaccount")

    def _campaign(self, name, rule, owner) -> Campaign:
        title = f"Bench: {name}"
        existing = Campaign.objects.filter(name=title).first()
        if existing:
            return existing
        return campaign_create(
            owner=owner,
            data={"name": title, "channel": "email", "audience": rule, "subject": "Hello",
                  "body": "Hello {{ name }}"},
        )  # fmt: skip


def _tier_rules() -> dict:
    tiers = dict(LoyaltyTier.objects.values_list("name", "pk"))
    if not {"Gold", "Silver", "Bronze"} <= tiers.keys():
        return {}  # an admin renamed the default tiers
    return {
        "gold or silver tier": {"tiers": [tiers["Gold"], tiers["Silver"]]},
        "bronze (base) tier": {"tiers": [tiers["Bronze"]]},
    }
