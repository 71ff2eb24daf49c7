"""Emails: addressee, subject with the ticket number, text and HTML, escaping, skipping.

The emails are queued in the outbox and leave when the transaction commits (inline, as the
test suite runs tasks): `committed()` runs the commit callbacks of the test's transaction.
"""

from functools import partial

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import translation

from service import emails
from service.models import TicketMessage
from tests.factories import ContactFactory, CustomerFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db

committed = partial(TestCase.captureOnCommitCallbacks, execute=True)


def test_reply_goes_to_the_contact_when_there_is_one():
    contact = ContactFactory(email="buyer@example.com")
    ticket = TicketFactory(customer=contact.customer, contact=contact, subject="Broken <b>x</b>")
    message = TicketMessageFactory(ticket=ticket, body="Try <script>alert(1)</script> this")
    with committed():
        assert emails.send_reply(message) == 1
    sent = mail.outbox[0]
    assert sent.to == ["buyer@example.com"]
    assert sent.subject == f"[{ticket.number}] Re: Broken <b>x</b>"
    assert "Try <script>alert(1)</script> this" in sent.body  # plain text is not escaped
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html"
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "/help/tickets/" in sent.body


def test_internal_notes_and_customer_messages_are_never_emailed():
    ticket = TicketFactory()
    note = TicketMessageFactory(ticket=ticket, kind=TicketMessage.Kind.NOTE, body="secret")
    own = TicketMessageFactory(ticket=ticket, author=None, from_customer=True)
    assert emails.send_reply(note) == 0
    assert emails.send_reply(own) == 0
    assert mail.outbox == []


def test_no_address_skips_silently():
    ticket = TicketFactory(customer=CustomerFactory(email=""))
    assert emails.send_ticket_acknowledgement(ticket) == 0
    assert emails.send_csat_request(ticket) == 0
    assert mail.outbox == []


def test_newlines_in_the_subject_cannot_inject_headers():
    ticket = TicketFactory(subject="Hi\r\nBcc: victim@example.com")
    with committed():
        emails.send_ticket_acknowledgement(ticket)
    assert "\n" not in mail.outbox[0].subject
    assert mail.outbox[0].bcc == []


def test_acknowledgement_and_csat_carry_their_links():
    ticket = TicketFactory(status="resolved")
    with committed():
        emails.send_ticket_acknowledgement(ticket)
        emails.send_csat_request(ticket)
    assert "/help/tickets/" in mail.outbox[0].body
    assert "/help/rate/" in mail.outbox[1].body
    assert mail.outbox[1].subject.startswith(f"[{ticket.number}]")


def test_emails_use_the_active_language():
    ticket = TicketFactory()
    with translation.override("zh-hans"), committed():
        emails.send_ticket_acknowledgement(ticket)
    assert mail.outbox[0].subject.startswith(f"[{ticket.number}]")


def test_escalation_digest_is_capped(settings):
    ticket = TicketFactory()
    row = {
        "target": "resolution",
        "level": "at_risk",
        "due_at": ticket.created_at,
        "ticket_id": ticket.pk,
        "ticket__subject": "<b>hot</b>",
        "ticket__priority": "high",
    }
    with committed():
        emails.send_escalation_digest("boss@example.com", [row] * (emails.DIGEST_LIMIT + 5))
    sent = mail.outbox[0]
    assert sent.body.count(ticket.number) == emails.DIGEST_LIMIT
    assert "And 5 more tickets." in sent.body
    assert "&lt;b&gt;hot" in sent.alternatives[0][0]
