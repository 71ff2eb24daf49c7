"""Demo service data: holidays, about one ticket per eight customers over the last 60 days,
with conversations, SLA due times (some breached, some at risk) and CSAT ratings.

Called by devtools.demo.seed_demo after the sales demo, with the same random generator, so the
same seed gives the same data.
"""

import random
from datetime import date, timedelta

from django.utils import timezone

from customers.models import Customer
from service.models import (
    Holiday,
    Priority,
    SatisfactionResponse,
    SLAPolicy,
    Team,
    Ticket,
    TicketMessage,
)
from service.services import apply_due_times

TOPICS = [
    (
        "Cannot log in after password reset",
        "I reset my password but the login page still refuses it.",
    ),
    ("Invoice shows the wrong amount", "Last month's invoice charges two seats more than we have."),
    ("Delivery is late", "Our barcode scanners were due on Monday and have not arrived."),
    ("Receipt printer prints blank pages", "The printer feeds paper but nothing is printed."),
    ("How do I export my contacts?", "I would like a CSV of all contacts for our auditor."),
    ("Request: add two more seats", "Please add two professional seats to our licence."),
    (
        "Feedback on the new dashboard",
        "The new dashboard is great but loads slowly in the morning.",
    ),
    (
        "API returns 500 on order import",
        "Our nightly import fails with a server error since Friday.",
    ),
    ("发票抬头需要修改", "请把发票抬头改为我们公司的全称。"),
    ("扫码枪无法连接", "新买的扫码枪连接电脑后没有反应，请帮忙看看。"),
    ("培训课程时间咨询", "想了解下个月的线上培训具体安排。"),
]
AGENT_REPLIES = [
    "Thank you for reaching out. We are looking into it and will update you shortly.",
    "Could you send us a screenshot and the time it happened?",
    "We have fixed the problem on our side; please try again and let us know.",
    "感谢您的耐心，我们已经处理完毕，请再试一次。",
]
NOTES = [
    "Checked the logs: the error started after the last deployment.",
    "Customer is a key account, handle with care.",
    "Asked billing to verify the invoice.",
]
CUSTOMER_REPLIES = ["Here is the screenshot you asked for.", "Thanks, it works now!", "还是不行。"]
COMMENTS = [
    "",
    "",
    "Quick and friendly.",
    "Took too long.",
    "非常满意！",
    "Solved at once, thanks.",
]

STATUSES = [("new", 8), ("open", 20), ("waiting", 10), ("resolved", 35), ("closed", 27)]
PRIORITIES = [("low", 20), ("normal", 50), ("high", 20), ("urgent", 10)]
CATEGORIES = [
    ("question", 35),
    ("complaint", 15),
    ("incident", 25),
    ("request", 15),
    ("feedback", 10),
]


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def seed_holidays(today: date) -> None:
    for year in (today.year - 1, today.year, today.year + 1):
        for month, day, name in [(1, 1, "New Year"), (5, 1, "Labour Day"), (10, 1, "National Day")]:
            Holiday.objects.get_or_create(date=date(year, month, day), defaults={"name": name})


def seed_service(*, rng: random.Random, users: dict, customer_ids: list[int], today: date) -> None:
    seed_holidays(today)
    now = timezone.now()
    agent = users.get("agent")
    policies = {p.priority: p for p in SLAPolicy.objects.all()}
    holidays = list(Holiday.objects.values_list("date", flat=True))
    team = Team.objects.filter(name="Support").first()
    chosen = [cid for cid in customer_ids if rng.random() < 1 / 8]
    tickets = [_ticket(rng, cid, now, agent, team, index) for index, cid in enumerate(chosen)]
    tickets += _at_risk_tickets(rng, customer_ids, now, team)
    tickets += _web_requests(rng, customer_ids, now, team)
    for ticket in tickets:
        apply_due_times(ticket, policy=policies.get(ticket.priority), holiday_dates=holidays)
    Ticket.objects.bulk_create(tickets, batch_size=1000)
    messages, ratings = [], []
    for ticket in tickets:
        messages += _conversation(rng, ticket, agent, now)
        if ticket.status in ("resolved", "closed") and rng.random() < 0.8:
            ratings.append(_rating(rng, ticket))
    TicketMessage.objects.bulk_create(messages, batch_size=2000)
    SatisfactionResponse.objects.bulk_create(ratings, batch_size=2000)


def _ticket(rng, customer_id: int, now, agent, team, index: int) -> Ticket:
    subject, description = rng.choice(TOPICS)
    # The first few cover every status, so even a small demo shows each one.
    status = STATUSES[index][0] if index < len(STATUSES) else _pick(rng, STATUSES)
    category = _pick(rng, CATEGORIES)
    created = now - timedelta(minutes=rng.randint(30, 60 * 24 * 60))
    ticket = Ticket(
        customer_id=customer_id,
        subject=subject,
        description=description,
        channel=rng.choice(Ticket.Channel.values),
        category=category,
        priority=_pick(rng, PRIORITIES),
        status=status,
        assignee=agent if status != "new" and rng.random() < 0.7 else None,
        team=team,
        created_at=created,
    )
    if status != "new":
        ticket.first_responded_at = _later(rng, created, now, 10, 60 * 24)
    if status == "waiting":
        ticket.sla_paused_at = _later(rng, ticket.first_responded_at, now, 5, 60 * 24)
    if status in ("resolved", "closed"):
        ticket.resolved_at = _later(rng, ticket.first_responded_at, now, 60, 60 * 24 * 5)
        if category == "complaint":
            ticket.root_cause = rng.choice(Ticket.RootCause.values)
    if status == "closed":
        ticket.closed_at = _later(rng, ticket.resolved_at, now, 60, 60 * 24 * 3)
    return ticket


def _at_risk_tickets(rng, customer_ids, now, team) -> list[Ticket]:
    """A few fresh urgent tickets inside their at-risk window, so the queue shows the flag."""
    if not customer_ids:
        return []
    return [
        Ticket(
            customer_id=rng.choice(customer_ids),
            subject=subject,
            description=description,
            channel=Ticket.Channel.PHONE,
            priority=Priority.URGENT,
            team=team,
            created_at=now - timedelta(minutes=25),
        )
        for subject, description in rng.sample(TOPICS, 3)
    ]


def _web_requests(rng, customer_ids, now, team) -> list[Ticket]:
    """Fresh help-form requests: one from a customer's address, not yet confirmed by the
    sender, and one from an unknown address (a requester, no customer), so agents see both
    marks in the queue."""
    if not customer_ids:
        return []
    (subject, description), (subject2, description2) = rng.sample(TOPICS, 2)
    customer = Customer.objects.only("name", "email").get(pk=rng.choice(customer_ids))
    common = {"channel": Ticket.Channel.WEB, "team": team, "sender_unverified": True}
    return [
        Ticket(
            customer=customer,
            requester_name=customer.name,
            requester_email=customer.email or "someone@example.com",
            subject=subject,
            description=description,
            created_at=now - timedelta(minutes=12),
            **common,
        ),
        Ticket(
            requester_name="赵敏 Zhao Min",
            requester_email="zhao.min@example.net",
            subject=subject2,
            description=description2,
            created_at=now - timedelta(minutes=7),
            **common,
        ),
    ]


def _later(rng, start, now, low_minutes: int, high_minutes: int):
    return min(start + timedelta(minutes=rng.randint(low_minutes, high_minutes)), now)


def _conversation(rng, ticket: Ticket, agent, now) -> list[TicketMessage]:
    def message(at, body, **kwargs):
        return TicketMessage(ticket=ticket, created_at=at, body=body, **kwargs)

    thread = [message(ticket.created_at, ticket.description, author=None, from_customer=True)]
    if ticket.first_responded_at:
        thread.append(message(ticket.first_responded_at, rng.choice(AGENT_REPLIES), author=agent))
        if rng.random() < 0.5:
            at = _later(rng, ticket.first_responded_at, now, 1, 60)
            thread.append(message(at, rng.choice(NOTES), author=agent, kind="note"))
        if rng.random() < 0.4:
            at = _later(rng, ticket.first_responded_at, now, 30, 600)
            thread.append(
                message(at, rng.choice(CUSTOMER_REPLIES), author=None, from_customer=True)
            )
    if ticket.resolved_at:
        thread.append(message(ticket.resolved_at, AGENT_REPLIES[2], author=agent))
    return thread


def _rating(rng, ticket: Ticket) -> SatisfactionResponse:
    return SatisfactionResponse(
        ticket=ticket,
        score=rng.choices([1, 2, 3, 4, 5], weights=[5, 5, 10, 30, 50])[0],
        comment=rng.choice(COMMENTS),
        created_at=_later(rng, ticket.resolved_at, timezone.now(), 10, 60 * 24),
    )
