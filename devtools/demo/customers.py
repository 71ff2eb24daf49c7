"""Reproducible demo data for customers: users per role, customers, contacts, interactions, tasks.

The same seed gives the same data; dates are laid out over the two years up to today.
The first step of devtools.demo.seed_demo, which then calls the other apps' builders.
"""

import functools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from faker import Faker

from crm import roles
from crm.lib.bulk import bulk_insert
from customers.models import Channel, Contact, Customer, Interaction, Tag, Task

DEMO_PASSWORD = "demo"  # noqa: S105 - demo data only, printed by make demo
DEMO_USERS = [
    ("rep", roles.SALES_REP, "Lin", "Wei"),
    ("rep2", roles.SALES_REP, "Sarah", "Miller"),
    ("agent", roles.SERVICE_AGENT, "Chen", "Jing"),
    ("marketer", roles.MARKETER, "Tom", "Baker"),
    ("manager", roles.MANAGER, "Zhang", "Min"),
    ("admin", roles.ADMIN, "Ada", "Admin"),
]

REGIONS = [
    ("China", "Guangdong", ["Guangzhou", "Shenzhen", "Dongguan"]),
    ("China", "Shanghai", ["Shanghai"]),
    ("China", "Beijing", ["Beijing"]),
    ("China", "Zhejiang", ["Hangzhou", "Ningbo"]),
    ("China", "Sichuan", ["Chengdu"]),
    ("Taiwan", "Taipei", ["Taipei"]),
    ("Hong Kong", "Hong Kong", ["Hong Kong"]),
    ("Singapore", "Singapore", ["Singapore"]),
    ("United States", "California", ["San Francisco", "Los Angeles"]),
    ("United States", "New York", ["New York"]),
    ("United Kingdom", "England", ["London", "Manchester"]),
    ("Germany", "Bavaria", ["Munich"]),
]
COUNTRY_CALLING_CODES = {
    "China": 86,
    "Taiwan": 886,
    "Hong Kong": 852,
    "Singapore": 65,
    "United States": 1,
    "United Kingdom": 44,
    "Germany": 49,
}
INDUSTRIES = [
    "Manufacturing",
    "Retail",
    "Software",
    "Healthcare",
    "Logistics",
    "Finance",
    "Education",
    "Hospitality",
]
TAGS = ["VIP", "Newsletter", "Trade show 2025", "Partner", "Price sensitive", "Wholesale"]
INTERACTION_SUMMARIES = [
    "Discussed renewal and next quarter's volume.",
    "Asked for a product demo next week.",
    "Sent the updated price list.",
    "Follow-up on the open quote; waiting for budget approval.",
    "Complaint about late delivery, resolved with a discount.",
    "Introduced the new product line.",
    "客户询问批量采购折扣。",
    "电话回访，客户对服务满意。",
    "Met at the trade show; interested in the premium plan.",
]
TASK_TITLES = [
    "Call back about the quote",
    "Send contract",
    "Schedule a demo",
    "Check satisfaction",
    "回访客户",
    "Prepare renewal offer",
]


@functools.cache
def _fakers() -> list[Faker]:
    """Faker's locales are slow to load; reseeded on every use, so sharing them is safe."""
    return [Faker(locale) for locale in ("zh_CN", "zh_TW", "en_US", "en_GB")]


@dataclass
class SeedResult:
    users: dict
    customer_ids: list[int]
    customers: int
    interactions: int
    tasks: int


def ensure_demo_users() -> dict:
    """One user per role with the demo password; safe to run again."""
    user_model = get_user_model()
    users = {}
    for username, role, first, last in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        user.is_staff = role == roles.ADMIN
        user.is_superuser = role == roles.ADMIN
        user.save()
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


@transaction.atomic
def seed_customers(
    *,
    rng: random.Random,
    seed: int,
    now: datetime,
    count: int,
    interactions_per_customer: int,
) -> SeedResult:
    """`count` customers created over the two years up to `now`; `seed` seeds the name fakers."""
    fakers = _fakers()
    for index, faker in enumerate(fakers):
        faker.seed_instance(seed + index)
    users = ensure_demo_users()
    owners = [users["rep"], users["rep2"], users["manager"]]
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    start = now - timedelta(days=730)

    first_id = (Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    customer_rows = [_customer_row(rng, fakers, owners, start, i) for i in range(count)]
    bulk_insert(Customer, CUSTOMER_FIELDS, customer_rows)
    customer_ids = list(
        Customer.objects.filter(pk__gte=first_id).order_by("pk").values_list("pk", flat=True)
    )
    created = {
        pk: row[CUSTOMER_FIELDS.index("created_at")]
        for pk, row in zip(customer_ids, customer_rows, strict=True)
    }
    owner_of = {
        pk: row[CUSTOMER_FIELDS.index("owner_id")]
        for pk, row in zip(customer_ids, customer_rows, strict=True)
    }

    through = Customer.tags.through
    tag_rows = (
        (pk, tag.pk)
        for pk in customer_ids
        for tag in rng.sample(tags, k=rng.choice((0, 0, 1, 1, 2)))
    )
    bulk_insert(through, ["customer_id", "tag_id"], tag_rows)
    _seed_contacts(rng, fakers, customer_ids, customer_rows)
    interactions = bulk_insert(
        Interaction,
        [
            "customer_id",
            "channel",
            "direction",
            "occurred_at",
            "summary",
            "logged_by_id",
            "created_at",
            "contact_id",
        ],
        _interaction_rows(rng, customer_ids, created, owner_of, now, interactions_per_customer),
    )
    tasks = bulk_insert(
        Task,
        [
            "customer_id",
            "title",
            "assignee_id",
            "due_date",
            "done",
            "done_at",
            "created_by_id",
            "created_at",
        ],
        _task_rows(rng, customer_ids, owner_of, now),
    )
    return SeedResult(
        users=users,
        customer_ids=customer_ids,
        customers=len(customer_ids),
        interactions=interactions,
        tasks=tasks,
    )


CUSTOMER_FIELDS = [
    "kind", "name", "organization", "email", "phone", "country", "region", "city", "address",
    "industry", "company_size", "source", "stage", "owner_id", "is_key_account",
    "preferred_channel", "external_id", "notes", "version", "created_at", "updated_at",
]  # fmt: skip


def _customer_row(rng, fakers, owners, start, index):
    is_company = rng.random() < 0.35
    country, region, cities = rng.choice(REGIONS)
    faker = _faker_for(country, rng, fakers)
    name = faker.company() if is_company else faker.name()
    created_at = start + timedelta(seconds=rng.randrange(0, 730 * 86400))
    email = (
        f"{'info' if is_company else 'c'}{index}.{rng.randrange(10**6)}@{faker.free_email_domain()}"
    )
    stage = rng.choices(Customer.Stage.values, weights=(20, 20, 50, 10))[0]
    return (
        Customer.Kind.COMPANY if is_company else Customer.Kind.PERSON,
        name,
        "" if is_company else (faker.company() if rng.random() < 0.4 else ""),
        email,
        f"+{COUNTRY_CALLING_CODES[country]} {rng.randrange(10**9, 10**10)}",
        country,
        region,
        rng.choice(cities),
        faker.street_address(),
        rng.choice(INDUSTRIES),
        rng.choice(Customer.Size.values) if is_company else "",
        rng.choice(Customer.Source.values),
        stage,
        rng.choice(owners).pk if rng.random() < 0.9 else None,
        rng.random() < 0.05,
        rng.choice(Channel.values),
        f"DEMO-{index:07d}",
        "",
        1,
        created_at,
        created_at,
    )


def _faker_for(country: str, rng, fakers):
    """Names and streets in the country's language: zh_CN, zh_TW, or English."""
    zh_cn, zh_tw, en_us, en_gb = fakers
    if country == "China":
        return zh_cn
    if country in ("Taiwan", "Hong Kong"):
        return zh_tw
    if country == "Singapore":
        return rng.choice((zh_cn, en_gb))
    return en_gb if country in ("United Kingdom", "Germany") else en_us


def _seed_contacts(rng, fakers, customer_ids, customer_rows):
    rows = []
    for pk, row in zip(customer_ids, customer_rows, strict=True):
        if row[0] != Customer.Kind.COMPANY:
            continue
        for n in range(rng.randint(1, 3)):
            faker = _faker_for(row[CUSTOMER_FIELDS.index("country")], rng, fakers)
            rows.append(
                (pk, faker.name(), faker.job()[:100], f"contact{pk}.{n}@example.com", "", n == 0)
            )
    bulk_insert(Contact, ["customer_id", "name", "job_title", "email", "phone", "is_primary"], rows)


def _interaction_rows(rng, customer_ids, created, owner_of, now, per_customer):
    for pk in customer_ids:
        since = created[pk]
        span = max(int((now - since).total_seconds()), 1)
        for _ in range(rng.randint(0, per_customer * 2)):
            occurred_at = since + timedelta(seconds=rng.randrange(span))
            yield (
                pk,
                rng.choice(Channel.values),
                rng.choice(("in", "out")),
                occurred_at,
                rng.choice(INTERACTION_SUMMARIES),
                owner_of[pk],
                occurred_at,
                None,
            )


def _task_rows(rng, customer_ids, owner_of, now):
    today = now.date()
    for pk in customer_ids:
        if owner_of[pk] is None or rng.random() > 0.3:
            continue
        due = today + timedelta(days=rng.randint(-20, 30))
        done = due < today and rng.random() < 0.7
        done_at = datetime.combine(due, datetime.min.time(), tzinfo=now.tzinfo) if done else None
        yield (pk, rng.choice(TASK_TITLES), owner_of[pk], due, done, done_at, owner_of[pk], now)
