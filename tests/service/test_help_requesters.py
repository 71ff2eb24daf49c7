"""The public help form cannot speak for a customer it has not heard from (issue 13, point 2).

Before, a web request from a known address was filed on that customer as if they had sent
it, and an unknown address created a customer. Now a web request is "sender not verified"
until the emailed link is followed and confirmed, agents see the mark, and an unknown
sender is a requester (name and email on the ticket, no customer) until an agent links the
ticket to a customer or creates one. Tests marked "fails before" failed on the old code.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from customers.models import Customer
from service.models import SatisfactionResponse, Ticket
from service.services import ticket_update
from tests.factories import ContactFactory, CustomerFactory, TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]

FORM = {
    "name": "Zhao Min",
    "email": "zhao.min@example.net",
    "subject": "Please change my delivery address",
    "description": "Send everything to 1 Other Street from now on.",
    "category": "request",
}


def _submit(capture, **extra) -> Ticket:
    with capture(execute=True):
        response = Client().post(reverse("help:submit"), {**FORM, **extra})
    assert response.status_code == 302
    return Ticket.objects.latest("pk")


def _follow_link() -> str:
    match = re.search(r"http://\S+(/help/tickets/\S+/)", str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match[1]


def test_an_unknown_sender_is_a_requester_not_a_customer(django_capture_on_commit_callbacks):
    """Fails before: a customer was created for every unknown address."""
    ticket = _submit(django_capture_on_commit_callbacks)
    assert not Customer.objects.exists()
    assert ticket.customer is None
    assert (ticket.requester_name, ticket.requester_email) == ("Zhao Min", "zhao.min@example.net")
    assert ticket.sender_unverified
    assert mail.outbox[-1].to == ["zhao.min@example.net"]
    assert "Hello Zhao Min" in mail.outbox[-1].body


def test_a_known_address_is_filed_on_the_customer_but_unverified(
    django_capture_on_commit_callbacks,
):
    """Fails before: the request was filed with nothing telling agents it is unproven."""
    customer = CustomerFactory(email="Li.Wei@example.com", name="Li Wei")
    ticket = _submit(django_capture_on_commit_callbacks, email="li.wei@example.com")
    assert ticket.customer == customer and ticket.sender_unverified
    contact = ContactFactory(email="buyer@acme.example")
    by_contact = _submit(django_capture_on_commit_callbacks, email="BUYER@acme.example")
    assert (by_contact.customer, by_contact.contact) == (contact.customer, contact)
    assert by_contact.sender_unverified


def test_the_mark_goes_when_the_sender_confirms_from_the_link(django_capture_on_commit_callbacks):
    CustomerFactory(email="zhao.min@example.net")
    ticket = _submit(django_capture_on_commit_callbacks)
    link = _follow_link()
    sender = Client()
    page = sender.get(link)  # a mail scanner opening the link proves nothing
    assert b'id="verify-sender"' in page.content
    ticket.refresh_from_db()
    assert ticket.sender_unverified
    confirmed = sender.post(link, {"action": "verify"}, follow=True)
    assert b"your request is confirmed" in confirmed.content
    assert b'id="verify-sender"' not in confirmed.content
    ticket.refresh_from_db()
    assert not ticket.sender_unverified and ticket.sender_verified_at is not None


def test_a_reply_through_the_link_also_verifies(django_capture_on_commit_callbacks):
    ticket = _submit(django_capture_on_commit_callbacks)
    Client().post(_follow_link(), {"body": "It was me."})
    ticket.refresh_from_db()
    assert not ticket.sender_unverified


def test_agents_see_the_marks_in_the_queue_and_on_the_ticket(
    agent_client, django_capture_on_commit_callbacks
):
    known = CustomerFactory(email="li.wei@example.com", name="Li Wei")
    on_customer = _submit(django_capture_on_commit_callbacks, email=known.email)
    requester = _submit(django_capture_on_commit_callbacks)
    queue = agent_client.get(reverse("service:ticket-list"), {"view": "all"}).content.decode()
    assert queue.count("data-unverified") >= 2 and "data-requester" in queue
    assert "Zhao Min" in queue and "Li Wei" in queue
    page = agent_client.get(on_customer.get_absolute_url()).content.decode()
    assert 'id="ticket-unverified"' in page and 'id="unverified-warning"' in page
    assert 'id="customer-summary"' in page
    page = agent_client.get(requester.get_absolute_url()).content.decode()
    assert 'id="requester-summary"' in page and "zhao.min@example.net" in page
    with translation.override("zh-hans"):
        zh = agent_client.get(
            requester.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).status_code
    assert zh == 200


def test_an_agent_links_the_request_to_an_existing_customer(
    agent_client, django_capture_on_commit_callbacks
):
    ticket = _submit(django_capture_on_commit_callbacks)
    customer = CustomerFactory(name="Min Zhao", email="min@work.example")
    ContactFactory(customer=customer, email="ZHAO.MIN@example.net")
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="requester-candidates"' in page and "Min Zhao" in page  # same email, a contact
    url = reverse("service:ticket-requester", args=[ticket.pk])
    found = agent_client.get(url, {"q": "Min Zhao"})
    assert found.status_code == 200 and "Min Zhao" in found.content.decode()
    response = agent_client.post(url, {"action": "link", "customer": customer.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.customer == customer and ticket.requester_email == "zhao.min@example.net"
    assert Customer.objects.count() == 1
    again = agent_client.post(url, {"action": "create"})
    assert again.status_code == 302 and Customer.objects.count() == 1


def test_an_agent_creates_a_customer_from_the_requester(
    agent_client, django_capture_on_commit_callbacks
):
    ticket = _submit(django_capture_on_commit_callbacks)
    url = reverse("service:ticket-requester", args=[ticket.pk])
    agent_client.post(url, {"action": "create"})
    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.stage, customer.source) == (
        "Zhao Min",
        "zhao.min@example.net",
        "lead",
        "website",
    )
    ticket.refresh_from_db()
    assert ticket.customer == customer


@pytest.mark.parametrize("bad", ["", "abc", "-1", "9" * 30, "\x00", "<script>"])
def test_hostile_link_requests_change_nothing(
    agent_client, bad, django_capture_on_commit_callbacks
):
    ticket = _submit(django_capture_on_commit_callbacks)
    url = reverse("service:ticket-requester", args=[ticket.pk])
    response = agent_client.post(url, {"action": "link", "customer": bad})
    assert response.status_code == 404
    assert agent_client.get(url, {"q": bad}).status_code == 200
    ticket.refresh_from_db()
    assert ticket.customer is None


def test_only_those_who_work_tickets_decide(rep_client, marketer_client, client):
    ticket = TicketFactory(customer=None, requester_email="x@example.com", requester_name="X")
    url = reverse("service:ticket-requester", args=[ticket.pk])
    for forbidden in (rep_client, marketer_client):
        assert forbidden.post(url, {"action": "create"}).status_code == 403
        assert forbidden.get(url).status_code == 403
    assert client.get(url).status_code == 302  # to the login page
    assert not Customer.objects.exists()


def test_a_requesters_ticket_is_worked_to_the_end(
    agent, agent_client, manager_client, django_capture_on_commit_callbacks
):
    """Reply, resolve, CSAT and the reports all work without a customer."""
    ticket = _submit(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reply = agent_client.post(
            reverse("service:ticket-reply", args=[ticket.pk]), {"body": "Done.", "kind": "public"}
        )
    assert reply.status_code == 302
    assert mail.outbox[-1].to == ["zhao.min@example.net"]
    ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_update(ticket=ticket, user=agent, expected_version=ticket.version, status="resolved")
    assert "How did we do?" in mail.outbox[-1].subject and "Zhao Min" in mail.outbox[-1].body
    csat = re.search(r"http://\S+(/help/rate/\S+/)", str(mail.outbox[-1].body))[1]
    assert Client().post(csat, {"score": "5"}).status_code == 302
    assert SatisfactionResponse.objects.get(ticket=ticket).score == 5
    assert agent_client.get(ticket.get_absolute_url()).status_code == 200
    report = reverse("analytics:service")
    assert manager_client.get(report).status_code == 200
    assert manager_client.get(report, {"export": "csat_agent"}).status_code in (200, 404)


def test_a_ticket_needs_a_customer_or_a_requester():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(customer=None)
