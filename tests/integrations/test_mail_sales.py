"""The sales drop-box, the unfiled email list and writing email from the CRM (issue 14).

Messages go through the real ingestion path (ingest_raw: stored, parsed, handled in its
transaction); the compose page's email goes through the real outbox to Django's test mail
backend, and the customer's reply comes back through the drop-box.
"""

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.mail import EmailMultiAlternatives as DjangoEmail
from django.urls import reverse

from core.attachments import attachments_of
from core.services import outbox_email_enqueue
from customers.models import Interaction
from integrations.mail.ingest import ingest_raw
from integrations.mail.parse import parse_email
from integrations.mail.sales import handle
from integrations.models import InboundEmail
from tests.factories import ContactFactory, CustomerFactory, TicketFactory
from tests.integrations.mail_helpers import DROP_BOX, PNG

pytestmark = pytest.mark.django_db


def message(
    *,
    sender: str,
    to: list[str],
    cc: list[str] | None = None,
    subject: str = "Prices for 2027",
    body: str = "Here are the prices.",
    in_reply_to: str = "",
    files: list[tuple[str, bytes]] | None = None,
) -> bytes:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = ", ".join(to)
    if cc:
        email["Cc"] = ", ".join(cc)
    email["Subject"] = subject
    email["Message-ID"] = make_msgid(domain="mail.test")
    if in_reply_to:
        email["In-Reply-To"] = in_reply_to
        email["References"] = in_reply_to
    email.set_content(body)
    for name, data in files or []:
        email.add_attachment(data, maintype="image", subtype="png", filename=name)
    return email.as_bytes()


def test_a_reps_bcc_is_logged_outgoing_on_the_customer_with_body_and_files(rep, dropbox, acme):
    raw = message(
        sender="Rita <rep@example.com>", to=["buyer@acme.test"], files=[("prices.png", PNG)]
    )
    inbound, created = ingest_raw(mailbox=dropbox, raw=raw)
    assert created and inbound.status == InboundEmail.Status.PROCESSED, inbound.error
    interaction = Interaction.objects.get(customer=acme)
    assert interaction.channel == "email"
    assert interaction.direction == Interaction.Direction.OUTBOUND
    assert interaction.logged_by == rep
    assert "Prices for 2027" in interaction.summary
    assert "Here are the prices." in interaction.summary
    assert interaction.message_id == parse_email(raw).message_id
    assert interaction.thread == interaction.message_id
    assert [a.name for a in attachments_of(interaction)] == ["prices.png"]
    assert inbound.owner == rep
    assert inbound.result_id == str(interaction.pk)


def test_a_customers_mail_to_a_rep_is_logged_incoming_by_that_rep(rep, dropbox, acme):
    raw = message(sender="buyer@acme.test", to=["rep@example.com"], cc=[DROP_BOX])
    inbound, _created = ingest_raw(mailbox=dropbox, raw=raw)
    assert inbound.status == InboundEmail.Status.PROCESSED
    interaction = Interaction.objects.get(customer=acme)
    assert interaction.direction == Interaction.Direction.INBOUND
    assert interaction.logged_by == rep


def test_every_customer_among_the_recipients_gets_the_email(rep, dropbox, acme):
    contact = ContactFactory(email="Li.Wei@Globex.test")
    other = contact.customer
    raw = message(sender="rep@example.com", to=["buyer@acme.test"], cc=["li.wei@globex.test"])
    inbound, _created = ingest_raw(mailbox=dropbox, raw=raw)
    assert inbound.status == InboundEmail.Status.PROCESSED
    logged = Interaction.objects.filter(channel="email").order_by("customer_id")
    assert {i.customer_id for i in logged} == {acme.pk, other.pk}
    assert Interaction.objects.get(customer=other).contact == contact
    assert Interaction.objects.get(customer=acme).contact is None


def test_a_forward_is_logged_on_the_forwarded_originals_participants(rep, dropbox, acme):
    original = message(sender="buyer@acme.test", to=["rep@example.com"], subject="Order")
    forward = EmailMessage()
    forward["From"] = "rep@example.com"
    forward["To"] = DROP_BOX
    forward["Subject"] = "Fwd: Order"
    forward["Message-ID"] = make_msgid(domain="mail.test")
    forward.set_content("FYI")
    # Forwarded as an attachment, as mail clients do: a message/rfc822 part.
    forward.add_attachment(message_from_bytes(original, policy=policy.default))
    raw = forward.as_bytes()
    parsed = parse_email(raw)
    assert parsed.forwarded_from == "buyer@acme.test"
    inbound = InboundEmail.objects.create(mailbox=dropbox, message_key=parsed.message_id)
    outcome = handle(inbound, parsed)
    assert outcome.status == InboundEmail.Status.PROCESSED
    assert outcome.owner == rep
    interaction = Interaction.objects.get(customer=acme)
    assert interaction.direction == Interaction.Direction.INBOUND  # the customer wrote it
    assert interaction.logged_by == rep


def test_mail_matching_no_customer_is_unfiled_for_the_rep(rep, dropbox, acme):
    raw = message(sender="stranger@nowhere.test", to=["rep@example.com", DROP_BOX])
    inbound, _created = ingest_raw(mailbox=dropbox, raw=raw)
    assert inbound.status == InboundEmail.Status.UNFILED
    assert inbound.owner == rep
    assert not Interaction.objects.exists()


def test_mail_between_strangers_is_unfiled_without_an_owner(dropbox):
    inbound, _created = ingest_raw(
        mailbox=dropbox, raw=message(sender="a@nowhere.test", to=[DROP_BOX])
    )
    assert inbound.status == InboundEmail.Status.UNFILED
    assert inbound.owner is None


def test_a_strangers_mail_with_a_customer_in_cc_is_unfiled_for_the_managers(
    rep, dropbox, acme, manager_client
):
    """Security review of issue 14: anyone can write to the drop-box; a customer's address in
    Cc must not let them add an interaction and files to that customer."""
    raw = message(
        sender="mallory@attacker.test", to=[DROP_BOX], cc=["buyer@acme.test"],
        subject="Invoice overdue", files=[("invoice.png", PNG)],
    )  # fmt: skip
    inbound, _created = ingest_raw(mailbox=dropbox, raw=raw)
    assert inbound.status == InboundEmail.Status.UNFILED, inbound.error
    assert inbound.owner is None
    assert not Interaction.objects.exists()
    assert "Invoice overdue" in manager_client.get(reverse("mail:unfiled-list")).content.decode()


def test_a_strangers_mail_to_a_user_with_a_customer_in_cc_is_logged(rep, dropbox, acme):
    raw = message(
        sender="assistant@elsewhere.test", to=[DROP_BOX], cc=["rep@example.com", "buyer@acme.test"]
    )
    inbound, _created = ingest_raw(mailbox=dropbox, raw=raw)
    assert inbound.status == InboundEmail.Status.PROCESSED, inbound.error
    assert Interaction.objects.get(customer=acme).logged_by == rep


def test_a_strangers_answer_to_an_outbox_email_about_anything_is_logged(rep, dropbox, acme):
    """Threading to one of our Message-IDs vouches for the sender, whatever the email sent
    was about (here a ticket's reply, not an interaction)."""
    ticket = TicketFactory(customer=acme)
    sent = outbox_email_enqueue(
        message=DjangoEmail("Your ticket", "Fixed.", to=["buyer@acme.test"]), about=ticket
    )
    raw = message(
        sender="assistant@elsewhere.test", to=[DROP_BOX], cc=["buyer@acme.test"],
        in_reply_to=sent.message_id,
    )  # fmt: skip
    inbound, _created = ingest_raw(mailbox=dropbox, raw=raw)
    assert inbound.status == InboundEmail.Status.PROCESSED, inbound.error
    assert Interaction.objects.filter(customer=acme).count() == 1


@pytest.fixture
def unfiled(rep, dropbox):
    raw = message(
        sender="new.lead@startup.test",
        to=["rep@example.com"],
        cc=[DROP_BOX],
        subject="Interested in your product",
        files=[("logo.png", PNG)],
    )
    return ingest_raw(mailbox=dropbox, raw=raw)[0]


def test_the_rep_sees_and_files_their_unfiled_email(rep_client, rep, unfiled, acme):
    page = rep_client.get(reverse("mail:unfiled-list"))
    assert page.status_code == 200
    assert b"Interested in your product" in page.content
    assert b'id="nav-unfiled"' in page.content
    badge = rep_client.get(reverse("mail:unfiled-badge"))
    assert b'title="Unfiled email">1<' in badge.content  # the navigation's count
    url = reverse("mail:unfiled-file", args=[unfiled.pk])
    picker = rep_client.get(url, {"q": "Acme"})
    assert b"Acme Ltd" in picker.content
    assert rep_client.get(url, {"customer": acme.pk}).status_code == 200
    response = rep_client.post(url, {"customer": acme.pk})
    assert response.status_code == 302
    interaction = Interaction.objects.get(customer=acme)
    assert interaction.direction == Interaction.Direction.INBOUND
    assert interaction.logged_by == rep
    assert [a.name for a in attachments_of(interaction)] == ["logo.png"]
    unfiled.refresh_from_db()
    assert unfiled.status == InboundEmail.Status.PROCESSED
    assert b"Interested" not in rep_client.get(reverse("mail:unfiled-list")).content


def test_discarding_needs_a_post_and_leaves_no_interaction(rep_client, unfiled):
    url = reverse("mail:unfiled-discard", args=[unfiled.pk])
    assert rep_client.get(url).status_code == 405
    page = rep_client.get(reverse("mail:unfiled-list"))
    assert b"data-confirm=" in page.content
    assert rep_client.post(url).status_code == 302
    unfiled.refresh_from_db()
    assert unfiled.status == InboundEmail.Status.DISCARDED
    assert not Interaction.objects.exists()


def test_another_rep_gets_404_for_the_reps_unfiled_email(rep2_client, unfiled, rep2):
    assert b"Interested" not in rep2_client.get(reverse("mail:unfiled-list")).content
    file_url = reverse("mail:unfiled-file", args=[unfiled.pk])
    assert rep2_client.get(file_url).status_code == 404
    own = CustomerFactory(owner=rep2)
    assert rep2_client.post(file_url, {"customer": own.pk}).status_code == 404
    discard_url = reverse("mail:unfiled-discard", args=[unfiled.pk])
    assert rep2_client.post(discard_url).status_code == 404
    unfiled.refresh_from_db()
    assert unfiled.status == InboundEmail.Status.UNFILED


def test_a_rep_cannot_file_on_another_reps_customer(rep_client, unfiled, rep2):
    theirs = CustomerFactory(owner=rep2)
    url = reverse("mail:unfiled-file", args=[unfiled.pk])
    assert rep_client.post(url, {"customer": theirs.pk}).status_code == 404
    assert not Interaction.objects.exists()


def test_managers_see_every_reps_unfiled_email(manager_client, unfiled):
    assert b"Interested in your product" in manager_client.get(reverse("mail:unfiled-list")).content


@pytest.mark.parametrize("persona", ["marketer_client", "nobody_client"])
def test_roles_without_interactions_get_404(request, persona, unfiled):
    client = request.getfixturevalue(persona)
    assert client.get(reverse("mail:unfiled-list")).status_code == 404
    assert client.get(reverse("mail:unfiled-file", args=[unfiled.pk])).status_code == 404
    assert client.get(reverse("mail:compose")).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, unfiled):
    for url in (reverse("mail:unfiled-list"), reverse("mail:compose")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
