"""A customer with 10,000 events of every kind, for `make bench` (bench_pages), and cursors
for its timeline's "Older" pages at every depth. (The pages' floors: bench.replay_floor.)

The events are laid out as production writes them: in time order over three years,
interleaved with every other customer's rows, not grouped by customer.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from crm.lib.timeline import Cursor, timeline_page
from customers.models import Customer, Interaction, Task
from marketing.models import Campaign, CampaignRecipient
from sales.models import Deal, DealStageChange, Order, Quote, Stage
from service.models import SatisfactionResponse, Ticket

BUSY_EXTERNAL_ID = "bench-timeline-10k"
SPAN = timedelta(days=3 * 365)


def busy_customer(owner: User, seed: int = 7) -> Customer:
    """The customer with about 10,000 events (created once; found again by its external id)."""
    found = Customer.objects.filter(external_id=BUSY_EXTERNAL_ID).first()
    if found is not None:
        return found
    rng = random.Random(seed)
    customer = Customer.objects.create(
        name="Bench: ten thousand events", external_id=BUSY_EXTERNAL_ID, owner=owner
    )
    start = timezone.now() - SPAN

    def times(n: int) -> list:
        return sorted(
            start + timedelta(seconds=rng.uniform(0, SPAN.total_seconds())) for _ in range(n)
        )

    Interaction.objects.bulk_create(
        Interaction(customer=customer, occurred_at=at, summary=f"Call {n}", logged_by=owner)
        for n, at in enumerate(times(4000))
    )
    tasks = Task.objects.bulk_create(
        Task(customer=customer, assignee=owner, title=f"Follow up {n}", due_date=at.date())
        for n, at in enumerate(times(1000))
    )
    created = times(1000)
    for task, at in zip(tasks, created, strict=True):
        task.created_at, task.done, task.done_at = at, task.pk % 2 == 0, at + timedelta(days=2)
        task.done_at = task.done_at if task.done else None
    Task.objects.bulk_update(tasks, ["created_at", "done", "done_at"], batch_size=500)
    _sales(customer, owner, rng, times)
    _service(customer, times)
    _marketing(customer, owner, times)
    with connection.cursor() as cursor:  # the planner's statistics, as production keeps them
        cursor.execute("ANALYZE")
    return customer


def _sales(customer, owner, rng, times) -> None:
    stages = list(Stage.objects.filter(pipeline__is_default=True).order_by("order"))
    open_stages = [s for s in stages if not (s.is_won or s.is_lost)]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    deals = Deal.objects.bulk_create(
        Deal(
            customer=customer, title=f"Deal {n}", amount=Decimal("1000.00"), pipeline=won.pipeline,
            stage=won if n % 2 else lost, status="won" if n % 2 else "lost", lost_reason="Price",
            probability=0, expected_close_date=at.date(), owner=owner, created_at=at,
        )
        for n, at in enumerate(times(400))
    )  # fmt: skip
    changes = []
    for deal in deals:
        at = deal.created_at
        for step, stage in enumerate(
            [rng.choice(open_stages), won if deal.status == "won" else lost]
        ):
            changes.append(
                DealStageChange(
                    deal=deal, from_stage=stages[0], to_stage=stage, changed_by=owner,
                    changed_at=at + timedelta(days=step + 1),
                )
            )  # fmt: skip
    DealStageChange.objects.bulk_create(changes)
    quotes = Quote.objects.bulk_create(
        Quote(
            deal=deal, number=f"BQ-{customer.pk}-{n}", status="accepted", currency=deal.currency,
            valid_until=deal.created_at.date(), created_by=owner,
            sent_at=deal.created_at + timedelta(hours=3),
            accepted_at=deal.created_at + timedelta(hours=30) if deal.status == "won" else None,
        )
        for n, deal in enumerate(deals)
    )  # fmt: skip
    assert len(quotes) == len(deals)
    Order.objects.bulk_create(
        Order(
            customer=customer,
            number=f"BO-{customer.pk}-{n}",
            ordered_at=at,
            total=Decimal("99"),
            total_reporting=Decimal("99"),  # bulk_create skips save(); CRM_CURRENCY
        )
        for n, at in enumerate(times(1200))
    )


def _service(customer, times) -> None:
    opened = times(700)
    tickets = Ticket.objects.bulk_create(
        Ticket(
            customer=customer, subject=f"Problem {n}", description="…", channel="email",
            category="question", priority="normal", status="resolved", created_at=at,
            resolved_at=at + timedelta(hours=20),
        )
        for n, at in enumerate(opened)
    )  # fmt: skip
    SatisfactionResponse.objects.bulk_create(
        SatisfactionResponse(
            ticket=t, score=1 + t.pk % 5, created_at=t.created_at + timedelta(days=1)
        )
        for t in tickets[::3]
    )


def _marketing(customer, owner, times) -> None:
    campaigns = Campaign.objects.bulk_create(
        Campaign(name=f"Bench campaign {n}", channel="email", owner=owner, subject="Hi", body="Hi")
        for n in range(300)
    )
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(
            campaign=campaign, customer=customer, status="sent", sent_at=at,
            converted_at=at + timedelta(days=4) if n % 4 == 0 else None,
        )
        for n, (campaign, at) in enumerate(zip(campaigns, times(300), strict=True))
    )  # fmt: skip


def event_count(user: User, customer: Customer) -> int:
    """All the customer's events the user sees, by paging to the end (for the report)."""
    total, cursor = 0, None
    while True:
        page = timeline_page(user, customer, cursor=cursor, limit=500)
        total += len(page.events)
        if page.next_cursor is None:
            return total
        cursor = page.next_cursor


def deep_cursors(user: User, customer: Customer, count: int = 40) -> list[Cursor]:
    """Cursors spread over the whole history, for "Older" requests at any depth."""
    cursors: list[Cursor] = []
    cursor = None
    while True:
        page = timeline_page(user, customer, cursor=cursor, limit=250)
        if page.next_cursor is None:
            break
        cursors.append(page.next_cursor)
        cursor = page.next_cursor
    step = max(1, len(cursors) // count)
    return cursors[::step]
