"""The demo data set (`manage.py seed_demo`), built app by app in the order the apps depend
on each other: customers, sales, service, analytics, marketing.

One random generator runs through every step, so the same seed gives the same data.
"""

import random

from django.db import transaction
from django.utils import timezone

from customers.duplicate_refresh import duplicates_refresh
from devtools.demo.analytics import seed_analytics
from devtools.demo.customers import SeedResult, seed_customers
from devtools.demo.knowledge import seed_articles
from devtools.demo.marketing import seed_marketing
from devtools.demo.sales import seed_sales
from devtools.demo.service import seed_service


@transaction.atomic
def seed_demo(*, count: int, interactions_per_customer: int, seed: int = 42) -> SeedResult:
    rng = random.Random(seed)
    now = timezone.now()
    result = seed_customers(
        rng=rng,
        seed=seed,
        now=now,
        count=count,
        interactions_per_customer=interactions_per_customer,
    )
    users, customer_ids, today = result.users, result.customer_ids, now.date()
    seed_sales(rng=rng, users=users, customer_ids=customer_ids, today=today)
    seed_service(rng=rng, users=users, customer_ids=customer_ids, today=today)
    seed_articles(rng=rng, users=users)
    seed_analytics(today=today)  # segments read the sales demo's orders
    seed_marketing(rng=rng, users=users, customer_ids=customer_ids, today=today)  # and segments
    duplicates_refresh()  # the demo has no beat to find its possible duplicates
    return result
