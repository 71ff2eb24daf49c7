"""Writing email from the CRM (issue 14): the compose page, its templates, and the customer's
reply threading back through the sales drop-box."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.attachments import attachments_of
from core.models import OutboxMessage
from customers.models import Interaction
from integrations.mail.ingest import ingest_raw
from integrations.models import EmailTemplate, InboundEmail
from tests.factories import ContactFactory, CustomerFactory, DealFactory, TicketFactory
from tests.integrations.mail_helpers import DROP_BOX, PNG
from tests.integrations.test_mail_sales import message

pytestmark = pytest.mark.django_db


def compose_url(**params) -> str:
    key, value = next(iter(params.items()))
    return f"{reverse('mail:compose')}?{key}={value}"


def test_compose_sends_through_the_outbox_with_reply_to_the_drop_box(
    rep_client, rep, dropbox, acme, django_capture_on_commit_callbacks
):
    ContactFactory(customer=acme, email="cto@acme.test", name="Chen")
    url = compose_url(customer=acme.pk)
    page = rep_client.get(url)
    assert page.status_code == 200
    assert b"cto@acme.test" in page.content and b"{{ first_name }}" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(
            url,
            {
                "to": ["buyer@acme.test", "cto@acme.test"],
                "subject": "Offer for {{ name }}",
                "body": "Dear {{ first_name }},\nour offer.",
                "attachments": [_upload("offer.png", PNG)],
            },
        )
    assert response.status_code == 302
    assert response["Location"] == acme.get_absolute_url()
    row = OutboxMessage.objects.get()
    assert row.reply_to == [DROP_BOX]
    assert row.to == ["buyer@acme.test", "cto@acme.test"]
    assert row.subject == "Offer for Acme Ltd"
    assert row.text.startswith("Dear Acme,")
    sent = mail.outbox[-1]
    headers = sent.message()
    assert headers["Reply-To"] == DROP_BOX
    assert headers["Message-ID"] == row.message_id
    interaction = Interaction.objects.get(customer=acme)
    assert interaction.direction == Interaction.Direction.OUTBOUND
    assert interaction.logged_by == rep
    assert interaction.message_id == row.message_id == interaction.thread
    assert "Offer for Acme Ltd" in interaction.summary
    assert row.about_id == str(interaction.pk)
    assert [a.name for a in attachments_of(interaction)] == ["offer.png"]
    # The file is sent with the email, not only kept on the timeline.
    assert [(name, content) for name, content, _type in sent.attachments] == [("offer.png", PNG)]


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def test_the_customers_reply_threads_back_onto_the_conversation(
    rep_client, rep, dropbox, acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post(
            compose_url(customer=acme.pk),
            {"to": ["buyer@acme.test"], "subject": "Offer", "body": "Our offer."},
        )
    sent = OutboxMessage.objects.get()
    reply = message(
        sender="buyer@acme.test", to=[DROP_BOX], subject="Re: Offer", body="Yes please",
        in_reply_to=sent.message_id,
    )  # fmt: skip
    inbound, _created = ingest_raw(mailbox=dropbox, raw=reply)
    assert inbound.status == InboundEmail.Status.PROCESSED, inbound.error
    answer = Interaction.objects.get(customer=acme, direction=Interaction.Direction.INBOUND)
    assert answer.thread == sent.message_id
    assert answer.logged_by == rep  # the rep who wrote the email it answers
    assert "Yes please" in answer.summary


def test_a_reply_from_an_unknown_address_joins_its_thread(rep_client, dropbox, acme):
    rep_client.post(
        compose_url(customer=acme.pk),
        {"to": ["buyer@acme.test"], "subject": "Offer", "body": "Our offer."},
    )
    sent = OutboxMessage.objects.get()
    reply = message(sender="assistant@elsewhere.test", to=[DROP_BOX], in_reply_to=sent.message_id)
    inbound, _created = ingest_raw(mailbox=dropbox, raw=reply)
    assert inbound.status == InboundEmail.Status.PROCESSED
    assert Interaction.objects.filter(customer=acme, thread=sent.message_id).count() == 2


def test_compose_from_a_deal_notes_the_deal(rep_client, rep, acme):
    deal = DealFactory(customer=acme, owner=rep, title="Big order")
    url = compose_url(deal=deal.pk)
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(url, {"to": ["buyer@acme.test"], "subject": "Hi", "body": "Hello"})
    assert response["Location"] == deal.get_absolute_url()
    assert "Deal: Big order" in Interaction.objects.get(customer=acme).summary


def test_compose_refuses_what_the_user_may_not_work_on(rep_client, rep2, agent_client, acme):
    theirs = CustomerFactory(owner=rep2)
    their_deal = DealFactory(owner=rep2, customer=theirs)
    ticket = TicketFactory(customer=acme)
    assert rep_client.get(compose_url(customer=theirs.pk)).status_code == 404
    assert rep_client.post(compose_url(customer=theirs.pk), {}).status_code == 404
    assert rep_client.get(compose_url(deal=their_deal.pk)).status_code == 404
    assert rep_client.get(compose_url(ticket=ticket.pk)).status_code == 404  # reps: no queue
    assert agent_client.get(compose_url(ticket=ticket.pk)).status_code == 200
    assert agent_client.get(compose_url(deal=their_deal.pk)).status_code == 404
    assert not OutboxMessage.objects.exists()


def test_the_agent_writes_from_a_ticket(agent_client, acme):
    contact = ContactFactory(customer=acme, email="ops@acme.test")
    ticket = TicketFactory(customer=acme, contact=contact)
    url = compose_url(ticket=ticket.pk)
    page = agent_client.get(url)
    assert page.context["form"]["to"].value() == ["ops@acme.test"]  # the ticket's contact
    response = agent_client.post(url, {"to": ["ops@acme.test"], "subject": "Hi", "body": "Done"})
    assert response["Location"] == ticket.get_absolute_url()
    interaction = Interaction.objects.get(customer=acme)
    assert ticket.number in interaction.summary and interaction.contact == contact


def test_a_refused_send_keeps_the_draft(rep_client, acme):
    draft = "My long careful draft {{ customer.owner.password }}"
    response = rep_client.post(
        compose_url(customer=acme.pk),
        {"to": ["buyer@acme.test"], "subject": "Hi", "body": draft},
    )
    assert response.status_code == 422
    assert "My long careful draft" in response.content.decode()
    assert "There is no field called customer.owner.password" in response.content.decode()
    assert not OutboxMessage.objects.exists() and not Interaction.objects.exists()


def test_a_too_large_file_reshows_the_typed_email_with_a_message(rep_client, acme, settings):
    """Security review of issue 14: the compose page's own upload field answered a bare 413
    past the import limit and the typed email was lost; the shared attachment limits drop
    the file as it streams in and the form comes back with what was typed."""
    settings.CRM_ATTACHMENT_MAX_BYTES = 1024 * 1024
    settings.CRM_IMPORT_MAX_BYTES = 256 * 1024  # what refused the whole request unread
    big = SimpleUploadedFile("scan.png", PNG + b"\x00" * (1024 * 1024))
    response = rep_client.post(
        compose_url(customer=acme.pk),
        {
            "to": ["buyer@acme.test"], "subject": "Signed contract 签署", "body": "See the scan.",
            "save_as": "Contract", "attachments": [big],
        },
    )  # fmt: skip
    assert response.status_code == 422
    page = response.content.decode()
    assert "“scan.png” is larger than 1.0\xa0MB" in page
    assert 'value="Signed contract 签署"' in page and "See the scan." in page
    assert 'value="Contract"' in page
    assert not OutboxMessage.objects.exists() and not Interaction.objects.exists()


def test_an_address_not_offered_is_refused(rep_client, acme):
    response = rep_client.post(
        compose_url(customer=acme.pk),
        {"to": ["attacker@evil.test"], "subject": "Hi", "body": "Hello"},
    )
    assert response.status_code == 422
    assert not OutboxMessage.objects.exists()


def test_templates_are_saved_offered_and_personal_unless_shared(
    rep_client, rep2_client, acme, rep2
):
    response = rep_client.post(
        compose_url(customer=acme.pk),
        {
            "to": ["buyer@acme.test"],
            "subject": "Welcome {{ first_name }}",
            "body": "Welcome aboard",
            "save_as": "Welcome",
        },
    )
    assert response.status_code == 302
    template = EmailTemplate.objects.get(name="Welcome")
    assert template.subject == "Welcome {{ first_name }}" and not template.shared
    page = rep_client.get(compose_url(customer=acme.pk) + f"&template={template.pk}")
    assert b"Welcome {{ first_name }}" in page.content
    theirs = CustomerFactory(owner=rep2)
    other = rep2_client.get(compose_url(customer=theirs.pk) + f"&template={template.pk}")
    assert b"Welcome aboard" not in other.content  # another rep's personal template
    template.shared = True
    template.save()
    other = rep2_client.get(compose_url(customer=theirs.pk) + f"&template={template.pk}")
    assert b"Welcome aboard" in other.content


def test_the_email_buttons_show_for_who_may_write(rep_client, rep2_client, agent_client, acme, rep):
    assert b'id="email-customer"' in rep_client.get(acme.get_absolute_url()).content
    assert b'id="email-customer"' not in rep2_client.get(acme.get_absolute_url()).content
    deal = DealFactory(customer=acme, owner=rep)
    assert b'id="email-deal"' in rep_client.get(deal.get_absolute_url()).content
    ticket = TicketFactory(customer=acme)
    assert b'id="email-ticket"' in agent_client.get(ticket.get_absolute_url()).content


def test_the_email_interactions_files_follow_the_customers_rules(
    rep_client, nobody_client, dropbox, acme
):
    raw = message(sender="rep@example.com", to=["buyer@acme.test"], files=[("a.png", PNG)])
    ingest_raw(mailbox=dropbox, raw=raw)
    attachment = attachments_of(Interaction.objects.get()).get()
    url = reverse("attachment-download", args=[attachment.pk])
    download = rep_client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert nobody_client.get(url).status_code == 404


def test_the_templates_page_creates_edits_and_deletes_own_templates(rep_client, rep):
    assert rep_client.get(reverse("mail:template-create")).status_code == 200
    response = rep_client.post(
        reverse("mail:template-create"),
        {"name": "Intro", "subject": "Hello {{ first_name }}", "body": "Hi", "shared": "on"},
    )
    assert response.status_code == 302
    template = EmailTemplate.objects.get(owner=rep, name="Intro", shared=True)
    refused = rep_client.post(
        reverse("mail:template-edit", args=[template.pk]),
        {"name": "Intro", "subject": "{% load static %}", "body": "Hi"},
    )
    assert refused.status_code == 422  # outside the sandbox
    assert b"{% load static %}" in refused.content  # the text typed is kept
    assert b"Intro" in rep_client.get(reverse("mail:template-list")).content
    assert rep_client.post(reverse("mail:template-delete", args=[template.pk])).status_code == 302
    assert not EmailTemplate.objects.exists()


def test_another_user_cannot_edit_or_delete_a_template_even_shared(rep2_client, rep):
    template = EmailTemplate.objects.create(
        owner=rep, name="Shared", subject="S", body="B", shared=True
    )
    assert b"Shared" in rep2_client.get(reverse("mail:template-list")).content  # offered
    assert rep2_client.get(reverse("mail:template-edit", args=[template.pk])).status_code == 404
    delete = reverse("mail:template-delete", args=[template.pk])
    assert rep2_client.post(delete).status_code == 404
    assert EmailTemplate.objects.filter(pk=template.pk).exists()


def test_roles_without_interactions_cannot_reach_the_templates(marketer_client):
    assert marketer_client.get(reverse("mail:template-list")).status_code == 404
    assert marketer_client.get(reverse("mail:template-create")).status_code == 404
