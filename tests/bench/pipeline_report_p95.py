"""Server time of the pipeline report at 100,000 deals: p50 and p95 (not a pytest test).

A small stand-in for `bench_sales` (which first needs the page benchmark's customers and
then loads 1,000,000 deals for the forecast): it loads `--deals` deals spread over two
years (created in time order, 30% closed, three owners) into the database DATABASE_URL
names, and times GET /analytics/pipeline/ as a manager and as a rep, each period in turn:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench SECRET_KEY=x DEBUG=0 \\
        python tests/bench/pipeline_report_p95.py --deals 100000 --requests 60

The sales-by-month table is cached for ten minutes (analytics.reports.sales_by_month),
so after the first request the figure is the deals' own queries.
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm import roles  # noqa: E402
from customers.models import Customer  # noqa: E402
from sales.models import Deal, Pipeline  # noqa: E402

PERIODS = ["30d", "90d", "12m"]


def _user(username: str, role: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.groups.add(Group.objects.get(name=role))
    return user


def _load(wanted: int, owners: list, rng: random.Random) -> None:
    if Deal.objects.count() == wanted:
        return
    Deal.objects.all().delete()
    customers = list(Customer.objects.values_list("pk", flat=True))
    if len(customers) < 1000:
        Customer.objects.bulk_create(
            Customer(name=f"Bench {n}", email=f"bench{n}@example.com") for n in range(1000)
        )
        customers = list(Customer.objects.values_list("pk", flat=True))
    stages = list(Pipeline.objects.get(is_default=True).stages.order_by("order"))
    open_stages = [s for s in stages if not s.is_closed]
    now = timezone.now()
    started = time.perf_counter()
    batch = []
    for n in range(wanted):
        stage = rng.choice(open_stages) if rng.random() < 0.7 else rng.choice(stages)
        created = now - timedelta(days=730 * (wanted - n) / wanted, minutes=rng.randint(0, 600))
        closed = created + timedelta(days=rng.randint(1, 60)) if stage.is_closed else None
        if closed and closed > now:
            closed = now
        status = "won" if stage.is_won else "lost" if stage.is_lost else "open"
        batch.append(Deal(
            customer_id=rng.choice(customers), title="Bench deal",
            amount=Decimal(rng.randrange(100, 100_000)), pipeline_id=stage.pipeline_id,
            stage=stage, probability=stage.probability,
            expected_close_date=(closed or now + timedelta(days=rng.randint(-30, 365))).date(),
            owner=rng.choice(owners), status=status, closed_at=closed, created_at=created,
        ))  # fmt: skip
        if len(batch) == 10_000:
            Deal.objects.bulk_create(batch)
            batch = []
    Deal.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sales_deal")
    print(f"loaded {wanted} deals in {time.perf_counter() - started:.0f} s")


def _p(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(7)
    manager = _user("bench-manager", roles.MANAGER)
    rep = _user("bench-rep", roles.SALES_REP)
    _load(args.deals, [manager, rep, _user("bench-rep2", roles.SALES_REP)], rng)
    url = reverse("analytics:pipeline")
    for name, user in (("manager", manager), ("rep", rep)):
        client = Client()
        client.force_login(user)
        for period in PERIODS:  # warm up (and fill the sales-by-month cache)
            assert client.get(url, {"period": period}).status_code == 200
        times = []
        for n in range(args.requests):
            started = time.perf_counter()
            response = client.get(url, {"period": PERIODS[n % len(PERIODS)]})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(f"pipeline report ({name}): p50 {_p(times, 0.5):.1f} ms, "
              f"p95 {_p(times, 0.95):.1f} ms over {len(times)} requests")  # fmt: skip


if __name__ == "__main__":
    main()
