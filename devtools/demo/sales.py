"""Demo sales data for the demo customers: products, deals across the pipeline, two years of orders.

Called by devtools.demo.seed_demo after the customers, with the same random generator, so the
same seed gives the same data.
"""

import hashlib
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.exchange_rates import exchange_rates_save
from crm.lib.bulk import bulk_insert
from sales.models import Deal, DealStageChange, Order, OrderLine, Pipeline, Product
from sales.money import line_net, line_tax
from sales.reporting_totals import orders_convert_all

PRODUCTS = [
    ("CRM-STD", "CRM licence, standard (per seat, year)", "480.00", "13.00"),
    ("CRM-PRO", "CRM licence, professional (per seat, year)", "960.00", "13.00"),
    ("ONB-DAY", "Onboarding workshop (day)", "1200.00", "6.00"),
    ("SUP-GLD", "Gold support (year)", "3000.00", "6.00"),
    ("HW-SCAN", "Barcode scanner", "189.90", "13.00"),
    ("HW-PRNT", "Receipt printer", "259.00", "13.00"),
    ("INT-API", "API integration package", "4500.00", "6.00"),
    ("TRN-ONL", "Online training (per person)", "99.00", "6.00"),
]
DEAL_TITLES = [
    "Annual licences",
    "Expansion",
    "Renewal",
    "Pilot project",
    "扩容采购",
    "年度续约",
    "Hardware refresh",
]


def seed_products() -> list[Product]:
    products = []
    for sku, name, price, tax in PRODUCTS:
        product, _created = Product.objects.get_or_create(
            sku=sku, defaults={"name": name, "unit_price": Decimal(price), "tax_rate": Decimal(tax)}
        )
        products.append(product)
    return products


def seed_sales(*, rng: random.Random, users: dict, customer_ids: list[int], today: date) -> None:
    products = seed_products()
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("order"))
    owners = [users["rep"], users["rep2"], users["manager"]]
    now = timezone.now()
    _seed_rates(rng, today)
    _seed_deals(rng, customer_ids, stages, owners, pipeline, now)
    _seed_orders(rng, customer_ids, products, now)


# What one unit is worth in USD, about; each week moves a little. CHF gets no rate, so the
# demo shows how an amount without a rate is flagged.
DEMO_RATES = {"EUR": 1.08, "GBP": 1.27}
OTHER_CURRENCIES, OTHER_WEIGHTS = ["EUR", "GBP", "CHF"], [10, 6, 2]
RATE_WEEKS = 110  # back past the oldest demo order


def _seed_rates(rng: random.Random, today: date) -> None:
    """Weekly rates of EUR and GBP for two years (the reporting currency needs none)."""
    rates = {}
    for currency, level in DEMO_RATES.items():
        if currency == settings.CRM_CURRENCY:
            continue
        for week in range(RATE_WEEKS, -1, -1):
            level *= 1 + rng.uniform(-0.01, 0.01)
            day = today - timedelta(weeks=week)
            rates[(currency, day)] = Decimal(str(round(level, 4)))
    exchange_rates_save(rates=rates)


def _currency(rng: random.Random) -> str:
    """Mostly the reporting currency; some deals and orders in EUR, GBP or CHF."""
    if rng.random() < 0.8:
        return settings.CRM_CURRENCY
    return rng.choices(OTHER_CURRENCIES, weights=OTHER_WEIGHTS)[0]


def _seed_deals(rng, customer_ids, stages, owners, pipeline, now):
    open_stages = [s for s in stages if not s.is_won and not s.is_lost]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    first_id = (Deal.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rows = []
    for customer_id in customer_ids:
        if rng.random() > 0.6:
            continue
        for _ in range(rng.randint(1, 2)):
            stage = rng.choices([*open_stages, won, lost], weights=(25, 20, 20, 15, 12, 8))[0]
            created = now - timedelta(days=rng.randint(5, 400))
            closed = (
                created + timedelta(days=rng.randint(5, 90))
                if stage.is_won or stage.is_lost
                else None
            )
            closed = min(closed, now) if closed else None
            status = "won" if stage.is_won else "lost" if stage.is_lost else "open"
            expected = (closed or now + timedelta(days=rng.randint(-10, 180))).date()
            amount = Decimal(rng.randrange(500, 80000)).quantize(Decimal("1"))
            rows.append((
                customer_id, rng.choice(DEAL_TITLES), amount, _currency(rng), pipeline.pk, stage.pk,
                stage.probability, expected, rng.choice(owners).pk, status,
                "Price" if stage.is_lost else "", closed, closed or now - timedelta(days=rng.randint(0, 45)),
                1, created, closed or created,
            ))  # fmt: skip
    bulk_insert(
        Deal,
        ["customer_id", "title", "amount", "currency", "pipeline_id", "stage_id", "probability",
         "expected_close_date", "owner_id", "status", "lost_reason", "closed_at", "last_activity_at",
         "version", "created_at", "updated_at"],
        rows,
    )  # fmt: skip
    deals = Deal.objects.filter(pk__gte=first_id).values_list(
        "pk", "stage_id", "created_at", "owner_id"
    )
    bulk_insert(
        DealStageChange,
        ["deal_id", "from_stage_id", "to_stage_id", "changed_by_id", "changed_at"],
        ((pk, None, stage_id, owner_id, created) for pk, stage_id, created, owner_id in deals),
    )


def _seed_orders(rng, customer_ids, products, now):
    """Repeat buyers: about half the customers order, a few of them often (for RFM and LTV)."""
    tz = timezone.get_current_timezone()
    order_rows, line_rows = [], []
    for customer_id in customer_ids:
        if rng.random() > 0.5:
            continue
        count = 1 + int(rng.expovariate(0.35))
        first = now - timedelta(days=rng.randint(1, 730))
        for n in range(min(count, 30)):
            ordered = datetime.combine(
                (first + timedelta(days=rng.randint(0, 730))).date(),
                time(rng.randint(8, 20)),
                tzinfo=tz,
            )
            if ordered > now:
                continue
            number = "DEMO-" + hashlib.sha1(f"{customer_id}-{n}".encode()).hexdigest()[:12].upper()  # noqa: S324
            lines = [
                (rng.choice(products), Decimal(rng.randint(1, 5))) for _ in range(rng.randint(1, 3))
            ]
            total = Decimal("0")
            for product, quantity in lines:
                net = line_net(quantity, product.unit_price, Decimal("0"))
                total += net + line_tax(net, product.tax_rate)
                line_rows.append((number, product, quantity))
            channel = rng.choice(Order.Channel.values)
            order_rows.append(
                (customer_id, number, ordered, channel, total, _currency(rng), "", ordered)
            )
    bulk_insert(
        Order,
        [
            "customer_id",
            "number",
            "ordered_at",
            "channel",
            "total",
            "currency",
            "coupon_code",
            "created_at",
        ],
        order_rows,
    )
    with connection.cursor() as cursor:
        orders_convert_all(cursor)  # bulk_insert leaves total_reporting out
    order_ids = dict(Order.objects.filter(number__startswith="DEMO-").values_list("number", "pk"))
    bulk_insert(
        OrderLine,
        [
            "order_id",
            "product_id",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
        ],
        (
            (
                order_ids[number],
                product.pk,
                product.name,
                quantity,
                product.unit_price,
                Decimal("0"),
                product.tax_rate,
            )
            for number, product, quantity in line_rows
        ),
    )
