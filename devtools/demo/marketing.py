"""Demo marketing data: consent, four campaigns in different states on different channels,
their recipients with coupons and outcomes, orders that redeem coupons, and loyalty points.

Called by devtools.demo.seed_demo last, after sales has made the orders and analytics the
segments, with the same random generator, so the same seed gives the same data. Recipients
are written as if the sender had run (status, sent time); the sending itself is
marketing.services.sending's job.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from analytics.models import CustomerValue
from analytics.selectors import current_run
from customers.models import Channel, Consent, Customer
from marketing.audience import audience_queryset
from marketing.models import Campaign, CampaignRecipient
from marketing.services.campaigns import coupon_codes, coupon_redeem
from marketing.services.loyalty import loyalty_adjust, loyalty_earn
from marketing.services.order_rewards import loyalty_earn_orders
from sales.models import Order, Product
from sales.services import order_create

# Share of the customers who can be reached on a channel that consented to it.
CONSENT_SHARE = {Channel.EMAIL: 0.7, Channel.SMS: 0.4, Channel.PHONE: 0.5, Channel.MAIL: 0.3}
MAX_RECIPIENTS = 80  # per campaign: enough for the reports, quick to seed
_S = Campaign.Status
_R = CampaignRecipient


def seed_marketing(
    *, rng: random.Random, users: dict, customer_ids: list[int], today: date
) -> None:
    if not customer_ids:
        return
    _seed_consent(rng, customer_ids)
    now = timezone.now()
    marketer = users["marketer"]
    for spec in _campaign_specs(today):
        campaign = Campaign(owner=marketer, **spec["fields"])
        campaign.full_clean()
        campaign.save()
        if spec["sent_days_ago"] is not None:
            sent_at = now - timedelta(days=spec["sent_days_ago"])
            _seed_recipients(rng, campaign, sent_at, spec["converts"])
            # As the sender leaves it: the page tells when it went out, never "not sent yet".
            Campaign.objects.filter(pk=campaign.pk).update(
                send_started_at=sent_at, send_finished_at=sent_at + timedelta(hours=1)
            )
    # The sales demo's orders were loaded in bulk, as an import would: earn their points.
    loyalty_earn_orders(Order.objects.all())
    _seed_adjustments(rng, customer_ids, users["manager"])


def _campaign_specs(today) -> list[dict]:
    return [
        {
            "fields": {
                "name": "Win back: at-risk customers",
                "objective": "Bring back valuable customers who have not bought for a while.",
                "channel": "email",
                "audience": {"segments": ["at_risk", "cannot_lose", "about_to_sleep"]},
                "budget": Decimal("800.00"),
                "actual_cost": Decimal("650.00"),
                "starts_on": today - timedelta(days=45),
                "ends_on": today - timedelta(days=10),
                "status": _S.COMPLETED,
                "subject": "{{ first_name }}, we miss you: 15% off your next order",
                "body": "Hello {{ name }},\n\nUse {{ coupon_code }} for 15% off.\n\n"
                "Unsubscribe: {{ unsubscribe_link }}",
                "offer": "15% off the next order",
                "coupon_prefix": "BACK",
            },
            "sent_days_ago": 40,
            "converts": 0.25,
        },
        {
            "fields": {
                "name": "春季新品短信 / Spring launch SMS",
                "objective": "Tell loyal customers about the spring products.",
                "channel": "sms",
                "audience": {"segments": ["champions", "loyal", "potential_loyalist"]},
                "budget": Decimal("120.00"),
                "starts_on": today - timedelta(days=6),
                "ends_on": today + timedelta(days=24),
                "status": _S.SENT,  # sent, still running until its end date
                "form_title": "春季新品 · Spring products",
                "form_questions": ["Which product interests you?"],
                "body": "{{ first_name }}: spring products are in. Code {{ coupon_code }}",
                "offer": "Free onboarding hour",
                "coupon_prefix": "SPRING",
            },
            "sent_days_ago": 5,
            "converts": 0.15,
        },
        {
            "fields": {
                "name": "Catalogue mailing to customers",
                "channel": "mail",
                "audience": {"stages": ["customer"]},
                "budget": Decimal("300.00"),
                "actual_cost": Decimal("340.00"),
                "starts_on": today - timedelta(days=20),
                "ends_on": today - timedelta(days=5),
                "status": _S.COMPLETED,
            },
            "sent_days_ago": 20,
            "converts": 0.1,
        },
        {
            "fields": {
                "name": "Call list: hibernating customers",
                "objective": "Ask hibernating customers what would bring them back.",
                "channel": "phone",
                "audience": {"segments": ["hibernating"]},
                "budget": Decimal("500.00"),
                "starts_on": today + timedelta(days=7),
                "status": _S.SCHEDULED,
            },
            "sent_days_ago": None,
            "converts": 0,
        },
    ]


def _seed_consent(rng, customer_ids: list[int]) -> None:
    """Opt-ins with their history rows, so the 360° page shows when and how they were given."""
    emails = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "email"))
    now = timezone.now()
    consents = []
    for customer_id in customer_ids:
        for channel, share in CONSENT_SHARE.items():
            if channel == Channel.EMAIL and not emails.get(customer_id):
                continue
            if rng.random() < share:
                changed = now - timedelta(days=rng.randint(30, 700))
                consents.append(
                    Consent(
                        customer_id=customer_id,
                        channel=channel,
                        granted=True,
                        changed_at=changed,
                        source="demo data",
                    )
                )
    bulk_create_with_history(consents, Consent, batch_size=2000)


def _seed_recipients(rng, campaign: Campaign, sent_at, converts: float) -> None:
    customers = list(
        audience_queryset(campaign.audience, channel=campaign.channel).order_by("pk")[
            :MAX_RECIPIENTS
        ]
    )
    codes = coupon_codes(len(customers), prefix=campaign.coupon_prefix)
    segments = _segments_now([c.pk for c in customers])
    recipients = []
    for customer, code in zip(customers, codes, strict=True):
        bounced = campaign.channel == "email" and rng.random() < 0.04
        recipients.append(
            CampaignRecipient(
                campaign=campaign,
                customer=customer,
                status=_R.Status.BOUNCED if bounced else _R.Status.SENT,
                failure_reason="550 mailbox unavailable" if bounced else "",
                attempts=1,
                sent_at=sent_at + timedelta(seconds=rng.randint(0, 3600)),
                coupon_code=code if campaign.coupon_prefix else "",
                outcome=_outcome(rng, campaign) if not bounced else "",
                segment=segments.get(customer.pk, ""),
            )
        )
    CampaignRecipient.objects.bulk_create(recipients)
    product = Product.objects.order_by("pk").first()
    for recipient in recipients:
        if recipient.status == _R.Status.SENT and rng.random() < converts:
            _convert(rng, recipient, product)


def _segments_now(customer_ids: list[int]) -> dict[int, str]:
    run = current_run()
    if run is None:
        return {}
    values = CustomerValue.objects.filter(run=run, customer_id__in=customer_ids)
    return dict(values.values_list("customer_id", "segment"))


def _outcome(rng, campaign: Campaign) -> str:
    if campaign.channel not in ("mail", "phone") or rng.random() < 0.6:
        return ""
    return rng.choice([_R.Outcome.RESPONDED, _R.Outcome.INTERESTED, _R.Outcome.DECLINED])


def _convert(rng, recipient: CampaignRecipient, product) -> None:
    """An order some days after sending: with the coupon when there is one."""
    if recipient.sent_at is None:  # never sent: nothing to answer
        return
    ordered_at = recipient.sent_at + timedelta(days=rng.randint(0, 4), hours=rng.randint(1, 20))
    ordered_at = min(ordered_at, timezone.now() - timedelta(minutes=5))
    price = Decimal(rng.choice(["99.00", "189.90", "480.00", "960.00", "1200.00"]))
    line = {
        "product": product,
        "description": product.name if product else "Item",
        "quantity": Decimal(rng.randint(1, 3)),
        "unit_price": price,
    }
    order = order_create(
        customer=recipient.customer,
        ordered_at=ordered_at,
        lines=[line],
        channel="web",
        coupon_code=recipient.coupon_code,
    )
    # The receivers do this after commit too; both steps are idempotent.
    coupon_redeem(order=order)
    loyalty_earn(order=order)


def _seed_adjustments(rng, customer_ids: list[int], manager) -> None:
    reasons = ["Welcome bonus", "Apology for a late delivery", "Survey reward"]
    for customer_id in rng.sample(customer_ids, min(8, len(customer_ids))):
        customer = Customer.objects.get(pk=customer_id)
        loyalty_adjust(
            customer=customer,
            points=rng.choice([50, 100, 200]),
            reason=rng.choice(reasons),
            by=manager,
        )
