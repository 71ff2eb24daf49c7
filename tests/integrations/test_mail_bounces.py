"""The bounces mailbox through the one ingestion path (ingest_raw): DSNs shaped like
Postfix, Exim and Gmail mark campaign recipients bounced; a hard bounce makes the address
undeliverable (skipped by the next audience and by sending, shown on the 360 page, cleared
by a new address); a soft one is only recorded; anything else is ignored with a reason."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from customers.services import customer_update
from integrations.mail.ingest import ingest_raw
from integrations.models import InboundEmail, Mailbox
from marketing.audience import audience_queryset
from marketing.models import BounceKind, CampaignRecipient
from marketing.services import sending
from marketing.services.feedback import campaign_message_id
from service.models import Ticket
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    ConsentFactory,
    CustomerFactory,
)
from tests.integrations import dsn_samples

pytestmark = pytest.mark.django_db
R = CampaignRecipient.Status
S = InboundEmail.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(
        name="bounces",
        purpose=Mailbox.Purpose.BOUNCES,
        address="bounces@shop.example",
        host="127.0.0.1",
        username="bounces",
    )


def sent_recipient(email="li.lei@example.net", days_ago=1, campaign=None, customer=None):
    customer = customer or CustomerFactory(email=email)
    ConsentFactory(customer=customer)
    return CampaignRecipientFactory(
        campaign=campaign or CampaignFactory(),
        customer=customer,
        status=R.SENT,
        sent_at=timezone.now() - timedelta(days=days_ago),
    )


def message_id_of(row: CampaignRecipient) -> str:
    return campaign_message_id(
        campaign_id=row.campaign_id, recipient_id=row.pk, domain="shop.example"
    )


def in_next_audience(customer: Customer) -> bool:
    return audience_queryset({}, channel="email").filter(pk=customer.pk).exists()


def test_a_postfix_hard_bounce_marks_the_recipient_and_suppresses_the_address(
    mailbox, manager_client
):
    row = sent_recipient()
    other = sent_recipient(email="someone.else@example.net")
    assert in_next_audience(row.customer)
    raw = dsn_samples.postfix_hard(address="Li.Lei@example.net", original_id=message_id_of(row))

    inbound, created = ingest_raw(mailbox=mailbox, raw=raw)

    assert created and inbound.status == S.PROCESSED, inbound.outcome
    assert inbound.result_type == "marketing.campaignrecipient"
    assert inbound.result_id == str(row.pk)
    row.refresh_from_db()
    assert row.status == R.BOUNCED and row.bounce_kind == BounceKind.HARD
    assert row.bounced_at is not None and "5.1.1" in row.failure_reason
    row.customer.refresh_from_db()
    assert row.customer.email_undeliverable
    assert not in_next_audience(row.customer)
    assert in_next_audience(other.customer)
    page = manager_client.get(row.customer.get_absolute_url()).content.decode()
    assert 'id="email-bounces"' in page and "email bounces" in page
    other_page = manager_client.get(other.customer.get_absolute_url()).content.decode()
    assert 'id="email-bounces"' not in other_page


def test_a_new_address_clears_the_flag(mailbox, manager):
    row = sent_recipient()
    ingest_raw(
        mailbox=mailbox,
        raw=dsn_samples.postfix_hard(address=row.customer.email, original_id=message_id_of(row)),
    )
    customer = Customer.objects.get(pk=row.customer_id)
    assert customer.email_undeliverable
    customer = customer_update(
        customer=customer,
        expected_version=customer.version,
        data={"email": "li.lei@new.example.net"},
    )
    customer.refresh_from_db()
    assert not customer.email_undeliverable
    assert in_next_audience(customer)


def test_the_same_dsn_twice_is_stored_and_counted_once(mailbox):
    row = sent_recipient()
    raw = dsn_samples.postfix_hard(address=row.customer.email, original_id=message_id_of(row))
    first, created = ingest_raw(mailbox=mailbox, raw=raw)
    bounced_at = CampaignRecipient.objects.get(pk=row.pk).bounced_at
    again, created_again = ingest_raw(mailbox=mailbox, raw=raw)
    assert created and not created_again and again.pk == first.pk
    assert CampaignRecipient.objects.get(pk=row.pk).bounced_at == bounced_at
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 1


def test_a_bounce_without_our_message_id_is_recorded_soft_and_suppresses_nothing(mailbox):
    """Anyone can mail the bounces address a report naming any address: without one of our
    Message-IDs to that address, the latest campaign's recipient gets a soft bounce and the
    address stays deliverable (security review: a forged report blocked any customer)."""
    customer = CustomerFactory(email="gone@example.org")
    older = sent_recipient(customer=customer, days_ago=10)
    latest = sent_recipient(customer=customer, days_ago=1)
    raw = dsn_samples.exim_hard(address="gone@example.org", original_id="<lost@elsewhere>")

    inbound, _created = ingest_raw(mailbox=mailbox, raw=raw)

    assert inbound.status == S.PROCESSED, inbound.outcome
    latest.refresh_from_db()
    older.refresh_from_db()
    assert latest.status == R.BOUNCED and latest.bounce_kind == BounceKind.SOFT
    assert older.status == R.SENT
    customer.refresh_from_db()
    assert not customer.email_undeliverable


def test_the_message_id_wins_over_the_address(mailbox):
    customer = CustomerFactory(email="gone@example.org")
    older = sent_recipient(customer=customer, days_ago=10)
    sent_recipient(customer=customer, days_ago=1)
    raw = dsn_samples.exim_hard(address="gone@example.org", original_id=message_id_of(older))
    inbound, _created = ingest_raw(mailbox=mailbox, raw=raw)
    assert inbound.result_id == str(older.pk)
    assert CampaignRecipient.objects.get(pk=older.pk).status == R.BOUNCED


def test_a_gmail_soft_bounce_is_recorded_not_suppressed(mailbox):
    row = sent_recipient(email="full@gmail.com")
    raw = dsn_samples.gmail_soft(address="full@gmail.com", original_id=message_id_of(row))

    inbound, _created = ingest_raw(mailbox=mailbox, raw=raw)

    assert inbound.status == S.PROCESSED, inbound.outcome
    row.refresh_from_db()
    assert row.status == R.BOUNCED and row.bounce_kind == BounceKind.SOFT
    assert "4.2.2" in row.failure_reason
    row.customer.refresh_from_db()
    assert not row.customer.email_undeliverable
    assert in_next_audience(row.customer)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (dsn_samples.postfix_delayed, "without a failed recipient"),
        (dsn_samples.read_receipt, "not a delivery status notification"),
        (
            lambda address, original_id: dsn_samples.person_reply(address=address),
            "not a delivery status notification",
        ),
        (
            lambda address, original_id: dsn_samples.mangled_report(address=address),
            "without a failed recipient",
        ),
    ],
    ids=["delay-warning", "read-receipt", "a-person", "mangled"],
)
def test_what_is_not_a_bounce_is_ignored_with_its_reason(mailbox, build, reason):
    row = sent_recipient()
    raw = build(address=row.customer.email, original_id=message_id_of(row))

    inbound, _created = ingest_raw(mailbox=mailbox, raw=raw)

    assert inbound.status == S.IGNORED and reason in inbound.outcome
    row.refresh_from_db()
    assert row.status == R.SENT and row.bounce_kind == ""
    row.customer.refresh_from_db()
    assert not row.customer.email_undeliverable


def test_a_bounce_for_an_address_nobody_has_is_ignored(mailbox):
    raw = dsn_samples.postfix_hard(address="stranger@example.com", original_id="<x@y>")
    inbound, _created = ingest_raw(mailbox=mailbox, raw=raw)
    assert inbound.status == S.IGNORED
    assert "no campaign recipient matched" in inbound.outcome


def test_a_hard_bounce_suppresses_every_customer_with_the_address(mailbox):
    row = sent_recipient(email="shared@example.net")
    twin = CustomerFactory(email="Shared@Example.net")
    ingest_raw(
        mailbox=mailbox,
        raw=dsn_samples.postfix_hard(address="shared@example.net", original_id=message_id_of(row)),
    )
    twin.refresh_from_db()
    assert twin.email_undeliverable
    assert Customer.objects.get(pk=row.customer_id).email_undeliverable


def test_sending_skips_an_address_that_bounced_after_the_audience_froze(
    mailbox, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    bounced_before = sent_recipient(email="gone@example.org")
    fine = CustomerFactory()
    ConsentFactory(customer=fine)
    campaign = CampaignFactory()
    with django_capture_on_commit_callbacks(execute=False):
        sending.campaign_send(campaign=campaign, by=campaign.owner)
    frozen = CampaignRecipient.objects.get(campaign=campaign, customer=bounced_before.customer)
    ingest_raw(
        mailbox=mailbox,
        raw=dsn_samples.exim_hard(
            address="gone@example.org", original_id=message_id_of(bounced_before)
        ),
    )

    sending.send_batches(campaign_id=campaign.pk, worker="test", paced=False)

    frozen.refresh_from_db()
    assert frozen.status == R.FAILED and "bounced" in frozen.failure_reason
    assert CampaignRecipient.objects.get(campaign=campaign, customer=fine).status == R.SENT
    assert not audience_queryset({}, channel="email").filter(pk=frozen.customer_id).exists()


def test_an_erasure_blanks_the_bounced_address(mailbox, manager):
    from customers.erasure import customer_erase

    row = sent_recipient()
    ingest_raw(
        mailbox=mailbox,
        raw=dsn_samples.postfix_hard(address=row.customer.email, original_id=message_id_of(row)),
    )
    customer_erase(customer=row.customer, erased_by=manager)
    customer = Customer.objects.get(pk=row.customer_id)
    assert customer.email_bounced == "" and customer.email == ""
    assert not Customer.history.filter(id=customer.pk).exclude(email_bounced="").exists()


def test_a_bounce_in_the_support_mailbox_makes_no_ticket():
    """A delivery report carries Auto-Submitted; the support mailbox never answers it."""
    support = Mailbox.objects.create(
        name="support", purpose=Mailbox.Purpose.SUPPORT, address="support@crm.example.com",
        host="imap.example.com", username="support", password_env="X",
    )  # fmt: skip
    raw = dsn_samples.postfix_hard(address="a@b.example", original_id="<x@y>")
    inbound, _created = ingest_raw(mailbox=support, raw=raw)
    assert inbound.status == S.IGNORED and not Ticket.objects.exists()


def test_the_bounce_is_visible_in_the_campaign_report(mailbox, marketer_client, marketer):
    row = sent_recipient(campaign=CampaignFactory(owner=marketer))
    ingest_raw(
        mailbox=mailbox,
        raw=dsn_samples.postfix_hard(address=row.customer.email, original_id=message_id_of(row)),
    )
    html = marketer_client.get(
        reverse("marketing:campaign-report", args=[row.campaign_id])
    ).content.decode()
    assert 'id="figure-bounced">1 <span class="text-secondary">(100.0%)</span>' in html
