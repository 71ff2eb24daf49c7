"""The support mailbox: raw messages through ingest_raw become tickets, answers thread onto
their ticket (by our Message-IDs, the thread's, or the number in the subject from a known
sender), and agents' replies carry the headers that make the customer's answer come back."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.files.storage import default_storage
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from core.attachments import attachments_of
from core.models import Attachment, OutboxMessage
from core.services import email_from_row
from customers.erasure import customer_erase
from customers.models import Customer
from integrations.mail.ingest import ingest_raw
from integrations.models import InboundEmail, Mailbox
from service import services
from service.email_intake import EmailFile, IncomingEmail, ticket_email_receive
from service.models import Ticket, TicketMessage
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

SUPPORT = "help@shop.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(
        name="support",
        purpose=Mailbox.Purpose.SUPPORT,
        address=SUPPORT,
        host="127.0.0.1",
        port=143,
        username="help",
        password_env="SUPPORT_IMAP_PASSWORD",
        security=Mailbox.Security.NONE,
    )


def raw_email(
    *,
    sender="ann@example.com",
    subject="Parcel arrived broken",
    text="The box was crushed.",
    message_id=None,
    in_reply_to="",
    references="",
    headers=None,
    files=(),
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ann Lee <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    for name, data in files:
        message.add_attachment(data, maintype="image", subtype="png", filename=name)
    return bytes(message)


def receive(mailbox, **kwargs) -> InboundEmail:
    inbound, _ = ingest_raw(mailbox=mailbox, raw=raw_email(**kwargs))
    assert inbound.status in (InboundEmail.Status.PROCESSED, InboundEmail.Status.IGNORED), (
        inbound.error
    )
    return inbound


def ticket_of(inbound: InboundEmail) -> Ticket:
    assert inbound.result_type == "service.ticketmessage"
    return TicketMessage.objects.get(pk=inbound.result_id).ticket


def agent_reply(ticket, agent, body="Sorry! A new one is on its way.") -> OutboxMessage:
    message = services.ticket_reply(ticket=ticket, author=agent, body=body, internal=False)
    return OutboxMessage.objects.get(about_id=str(message.pk), about_type__model="ticketmessage")


class TestNewThread:
    def test_known_customer_gets_an_email_ticket_with_sla_and_acknowledgement(self, mailbox):
        customer = CustomerFactory(email="ann@example.com")
        inbound = receive(mailbox, message_id="<first@example.com>")
        ticket = ticket_of(inbound)
        assert inbound.outcome == f"ticket {ticket.number} created"
        assert (ticket.customer, ticket.channel, ticket.status) == (customer, "email", "new")
        # A From header is no proof: a forged customer address gets no trusted ticket.
        assert ticket.sender_unverified
        assert ticket.reply_address == SUPPORT
        assert ticket.subject == "Parcel arrived broken"
        assert ticket.first_response_due is not None and ticket.resolution_due is not None
        message = ticket.messages.get()
        assert message.via_email and message.from_customer
        assert message.email_message_id == "<first@example.com>"
        assert message.body.strip() == "The box was crushed."
        ack = OutboxMessage.objects.get(about_id=str(ticket.pk), about_type__model="ticket")
        sent = email_from_row(ack)
        assert sent.to == ["ann@example.com"]
        assert sent.reply_to == [SUPPORT]
        assert sent.extra_headers["In-Reply-To"] == "<first@example.com>"
        assert sent.subject.startswith(f"[{ticket.number}]")

    def test_contact_address_files_it_on_the_contacts_customer(self, mailbox):
        contact = ContactFactory(email="buyer@corp.example")
        ticket = ticket_of(receive(mailbox, sender="buyer@corp.example"))
        assert (ticket.customer, ticket.contact) == (contact.customer, contact)

    def test_unknown_sender_is_an_unverified_requester_not_a_customer(self, mailbox):
        customers = Customer.objects.count()
        ticket = ticket_of(receive(mailbox, sender="stranger@elsewhere.example"))
        assert ticket.customer is None and ticket.sender_unverified
        assert (ticket.requester_email, ticket.requester_name) == (
            "stranger@elsewhere.example",
            "Ann Lee",
        )
        assert Customer.objects.count() == customers

    def test_empty_subject_and_long_subject(self, mailbox):
        assert ticket_of(receive(mailbox, subject="")).subject == "(no subject)"
        long = "Broken " * 60
        ticket = ticket_of(receive(mailbox, subject=long))
        assert len(ticket.subject) == 200 and ticket.subject.endswith("…")
        assert "The subject was shortened" in ticket.messages.get().body

    def test_oversized_message_is_a_ticket_with_a_note(self, mailbox, settings):
        settings.CRM_MAIL_MAX_BYTES = 2048
        ticket = ticket_of(receive(mailbox, text="x" * 5000))
        assert "too large to read" in ticket.description
        assert ticket.messages.get().body == ticket.description

    def test_long_text_is_cut_with_a_note(self, mailbox):
        ticket = ticket_of(receive(mailbox, text="word " * 6000))
        body = ticket.messages.get().body
        assert len(body) <= 20_000 and "The email was shortened" in body

    def test_attachments_are_stored_on_the_message(self, mailbox, settings):
        settings.CRM_ATTACHMENT_MAX_BYTES = 1024
        files = [("parcel.png", PNG), ("huge.png", PNG + b"\x00" * 2000)]
        ticket = ticket_of(receive(mailbox, files=files))
        message = ticket.messages.get()
        (stored,) = attachments_of(message)
        assert (stored.name, stored.content_type, stored.size) == ("parcel.png", "image/png", 72)
        with stored.file.open("rb") as stream:
            assert stream.read() == PNG
        assert "“huge.png”" in message.body and "over the size limit" in message.body


class TestNoise:
    def test_the_same_message_twice_is_stored_once(self, mailbox):
        raw = raw_email(message_id="<twice@example.com>")
        first, created = ingest_raw(mailbox=mailbox, raw=raw)
        again, created_again = ingest_raw(mailbox=mailbox, raw=raw)
        assert (created, created_again) == (True, False) and first.pk == again.pk
        assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1

    def test_auto_reply_creates_nothing(self, mailbox, agent):
        ticket = ticket_of(receive(mailbox))
        inbound = receive(
            mailbox,
            subject=f"Out of office: [{ticket.number}] Parcel",
            headers={"Auto-Submitted": "auto-replied"},
        )
        assert inbound.status == InboundEmail.Status.IGNORED
        assert Ticket.objects.count() == 1 and ticket.messages.count() == 1

    def test_our_own_outgoing_message_is_ignored(self, mailbox, agent):
        ticket = ticket_of(receive(mailbox))
        row = agent_reply(ticket, agent)
        inbound = receive(mailbox, sender=SUPPORT, message_id=row.message_id)
        assert inbound.status == InboundEmail.Status.IGNORED
        assert ticket.messages.count() == 2

    def test_mail_from_our_own_mailbox_is_ignored(self, mailbox):
        inbound = receive(mailbox, sender=SUPPORT)
        assert inbound.status == InboundEmail.Status.IGNORED
        assert not Ticket.objects.exists()


class TestThreading:
    def test_reply_to_our_message_id_threads_and_reopens_waiting(self, mailbox, agent):
        CustomerFactory(email="ann@example.com")
        ticket = ticket_of(receive(mailbox))
        row = agent_reply(ticket, agent)
        ticket.refresh_from_db()
        services.ticket_update(
            ticket=ticket, user=agent, expected_version=ticket.version, status="waiting"
        )
        answer = receive(
            mailbox,
            subject="Re: parcel",
            text="Thanks, photo attached.",
            in_reply_to=row.message_id,
        )
        assert answer.outcome == f"reply on {ticket.number}"
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN and ticket.sla_paused_at is None
        last = ticket.messages.last()
        assert last.from_customer and last.via_email and last.body == "Thanks, photo attached."

    def test_references_thread_when_in_reply_to_is_unknown(self, mailbox, agent):
        ticket = ticket_of(receive(mailbox, message_id="<start@example.com>"))
        receive(
            mailbox,
            subject="Another thing",
            in_reply_to="<somebody-elses@example.net>",
            references="<start@example.com> <somebody-elses@example.net>",
        )
        assert Ticket.objects.count() == 1 and ticket.messages.count() == 2

    def test_the_acknowledgements_message_id_threads(self, mailbox):
        ticket = ticket_of(receive(mailbox))
        ack = OutboxMessage.objects.get(about_id=str(ticket.pk), about_type__model="ticket")
        # An automatic answer (RFC 3834): other robots must not answer it.
        assert ack.headers["Auto-Submitted"] == "auto-replied"
        receive(mailbox, subject="Re: we received", in_reply_to=ack.message_id)
        assert ticket.messages.count() == 2

    def test_subject_number_from_the_same_sender_threads(self, mailbox):
        ticket = ticket_of(receive(mailbox))
        receive(mailbox, subject=f"Re: [{ticket.number}] Parcel", text="Any news?")
        assert Ticket.objects.count() == 1
        assert ticket.messages.last().body == "Any news?"

    def test_subject_number_from_a_contact_of_the_customer_threads(self, mailbox):
        customer = CustomerFactory(email="ann@example.com")
        ContactFactory(customer=customer, email="colleague@example.com")
        ticket = ticket_of(receive(mailbox))
        receive(mailbox, sender="colleague@example.com", subject=f"[{ticket.number}] me too")
        assert Ticket.objects.count() == 1 and ticket.messages.count() == 2

    def test_a_stranger_naming_the_number_gets_a_ticket_of_their_own(self, mailbox):
        ticket = ticket_of(receive(mailbox))
        inbound = receive(
            mailbox, sender="mallory@evil.example", subject=f"Re: [{ticket.number}] Parcel"
        )
        other = ticket_of(inbound)
        assert other.pk != ticket.pk and other.requester_email == "mallory@evil.example"
        assert ticket.messages.count() == 1

    def test_hostile_numbers_in_the_subject(self, mailbox):
        for subject in ["[T-000000]", "[T-99999999999]", "[T-١٢٣]", "[T-999999999999999999]"]:
            receive(mailbox, subject=subject)
        assert Ticket.objects.count() == 4

    def test_nul_bytes_never_reach_the_database(self):
        # (ingest_raw stores the headers on InboundEmail first; its parser's part.)
        email = IncomingEmail(
            sender_email="ann@example.com",
            sender_name="Ann\x00",
            subject="[T-\x00] Hi\x00",
            text="Body\x00",
            files=[EmailFile(name="a\x00.png", data=PNG, content_id="<x\x00>")],
        )
        received = ticket_email_receive(email=email)
        assert received.ticket.subject == "[T-] Hi" and received.message.body == "Body"
        assert attachments_of(received.message).get().name == "a.png"

    def test_answer_by_email_does_not_verify_the_sender_unless_it_names_our_email(
        self, mailbox, agent
    ):
        ticket = ticket_of(receive(mailbox, sender="new@example.com"))
        receive(mailbox, sender="new@example.com", subject=f"[{ticket.number}] more")
        ticket.refresh_from_db()
        assert ticket.sender_unverified
        row = agent_reply(ticket, agent)
        receive(mailbox, sender="new@example.com", subject="Re", in_reply_to=row.message_id)
        ticket.refresh_from_db()
        assert not ticket.sender_unverified


class TestReopenRules:
    def resolve(self, ticket, agent, days_ago):
        ticket.refresh_from_db()
        services.ticket_update(
            ticket=ticket,
            user=agent,
            expected_version=ticket.version,
            status="resolved",
            now=timezone.now() - timedelta(days=days_ago),
        )

    def test_recently_resolved_reopens(self, mailbox, agent, settings):
        settings.CRM_MAIL_REOPEN_DAYS = 14
        ticket = ticket_of(receive(mailbox))
        self.resolve(ticket, agent, days_ago=13)
        receive(mailbox, subject=f"Re: [{ticket.number}]", text="Broken again")
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN and ticket.resolved_at is None
        assert Ticket.objects.count() == 1

    def test_resolved_long_ago_opens_a_new_ticket_naming_the_old(self, mailbox, agent, settings):
        settings.CRM_MAIL_REOPEN_DAYS = 14
        ticket = ticket_of(receive(mailbox))
        self.resolve(ticket, agent, days_ago=15)
        new = ticket_of(receive(mailbox, subject=f"Re: [{ticket.number}]", text="Again"))
        assert new.pk != ticket.pk and new.channel == "email"
        note = new.messages.get(kind=TicketMessage.Kind.NOTE)
        assert ticket.number in note.body
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.RESOLVED and ticket.messages.count() == 1

    def test_closed_opens_a_new_ticket(self, mailbox, agent):
        ticket = ticket_of(receive(mailbox, message_id="<closed@example.com>"))
        ticket.refresh_from_db()
        services.ticket_update(
            ticket=ticket, user=agent, expected_version=ticket.version, status="closed"
        )
        new = ticket_of(receive(mailbox, subject="Re", in_reply_to="<closed@example.com>"))
        assert new.pk != ticket.pk
        assert ticket.number in new.messages.get(kind=TicketMessage.Kind.NOTE).body

    def test_waiting_pauses_the_clock_and_an_email_answer_resumes_it(self, mailbox, agent):
        customer = CustomerFactory(email="ann@example.com")
        ticket = services.ticket_create(
            customer=customer,
            subject="Urgent",
            description="Down",
            channel=Ticket.Channel.EMAIL,
            priority="urgent",  # around the clock: the pause is wall-clock minutes
        )
        before = ticket.resolution_due
        services.ticket_update(
            ticket=ticket,
            user=agent,
            expected_version=ticket.version,
            status="waiting",
            now=timezone.now() - timedelta(minutes=90),
        )
        receive(mailbox, subject=f"[{ticket.number}] here you are")
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN and ticket.sla_paused_at is None
        assert 89 <= ticket.sla_paused_minutes <= 91
        assert ticket.resolution_due - before == timedelta(minutes=ticket.sla_paused_minutes)


class TestOutgoingHeaders:
    def test_agent_reply_threads_on_the_customers_last_email(self, mailbox, agent):
        ticket = ticket_of(receive(mailbox, message_id="<one@example.com>"))
        receive(mailbox, in_reply_to="<one@example.com>", message_id="<two@example.com>")
        row = agent_reply(ticket, agent)
        sent = email_from_row(row)
        message = sent.message()
        assert message["Message-ID"] == row.message_id
        assert ticket.messages.get(email_message_id=row.message_id).author == agent
        ack = OutboxMessage.objects.get(about_id=str(ticket.pk), about_type__model="ticket")
        assert message["In-Reply-To"] == "<two@example.com>"
        assert message["References"] == f"<one@example.com> {ack.message_id} <two@example.com>"
        assert message["Reply-To"] == SUPPORT
        assert "/help/tickets/" in sent.body

    def test_without_customer_email_it_threads_on_our_last_and_uses_the_setting(
        self, agent, settings
    ):
        ticket = services.ticket_create(
            customer=CustomerFactory(email="bob@example.com"),
            subject="Phone call",
            description="Called",
            channel=Ticket.Channel.PHONE,
        )
        first = agent_reply(ticket, agent, body="First")
        second = email_from_row(agent_reply(ticket, agent, body="Second")).message()
        assert second["In-Reply-To"] == first.message_id
        assert second["References"] == first.message_id
        assert second["Reply-To"] == settings.CRM_SUPPORT_ADDRESS

    def test_a_web_form_ticket_threads_on_the_acknowledgement(self, agent):
        ticket = services.ticket_submit_public(
            email="web@example.com",
            name="Web",
            subject="Form",
            description="Hi",
            category="question",
        )
        ack = OutboxMessage.objects.get(about_id=str(ticket.pk), about_type__model="ticket")
        reply = email_from_row(agent_reply(ticket, agent)).message()
        assert reply["In-Reply-To"] == ack.message_id == reply["References"]

    def test_references_are_capped(self, agent):
        ticket = services.ticket_create(
            customer=CustomerFactory(email="bob@example.com"),
            subject="Long thread",
            description="Many",
            channel=Ticket.Channel.PHONE,
        )
        rows = [agent_reply(ticket, agent, body=f"Reply {n}") for n in range(25)]
        references = email_from_row(rows[-1]).message()["References"].split()
        assert len(references) == 20
        assert references[0] == rows[0].message_id
        assert references[-1] == rows[-2].message_id


class TestFileAccess:
    def test_files_are_as_visible_as_the_ticket(self, mailbox, agent_client, rep2_client):
        ticket = ticket_of(receive(mailbox, files=[("parcel.png", PNG)]))
        (stored,) = attachments_of(ticket.messages.get())
        url = reverse("attachment-download", args=[stored.pk])
        response = agent_client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG
        assert rep2_client.get(url).status_code == 404

    def test_a_reps_customer_ticket_files(self, mailbox, rep, rep_client, rep2_client):
        CustomerFactory(email="ann@example.com", owner=rep)
        ticket = ticket_of(receive(mailbox, files=[("parcel.png", PNG)]))
        (stored,) = attachments_of(ticket.messages.get())
        url = reverse("attachment-download", args=[stored.pk])
        response = rep_client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG  # read to the end: closes the file
        assert rep2_client.get(url).status_code == 404


def test_the_ticket_page_marks_the_messages_that_came_by_email(mailbox, agent, agent_client):
    ticket = ticket_of(receive(mailbox, message_id="<page@example.com>"))
    agent_reply(ticket, agent)
    receive(mailbox, in_reply_to="<page@example.com>", text="Thanks")
    services.ticket_customer_reply(ticket=ticket, body="From the page")
    html = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert html.count("message-via-email") == 2


def test_erasing_the_customer_deletes_the_files_they_emailed(mailbox, manager):
    customer = CustomerFactory(email="ann@example.com")
    ticket = ticket_of(receive(mailbox, files=[("parcel.png", PNG)]))
    stored = attachments_of(ticket.messages.get()).get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        customer_erase(customer=customer, erased_by=manager)
    assert not Attachment.objects.filter(pk=stored.pk).exists()
    assert not default_storage.exists(stored.file.name)
    assert ticket.messages.get().email_message_id == ""
