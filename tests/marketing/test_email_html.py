"""Campaign emails are multipart: the plain text and an HTML alternative built from it."""

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from marketing.channels import Composer, email_message, html_body
from marketing.services import sending
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


def html_of(message) -> str:
    ((content, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return content


@pytest.fixture
def campaign(marketer):
    return CampaignFactory(
        owner=marketer,
        subject="Hi {{ first_name }}",
        body="Dear {{ name }},\n\nSee https://shop.example.com/sale?a=1&b=2 today.\nBye",
    )


def test_a_customer_named_script_is_escaped_in_html_and_unchanged_in_text(campaign):
    customer = CustomerFactory(name=SCRIPT)
    composer = Composer(campaign, [customer.pk])

    message = composer.build(customer, "")

    assert isinstance(message, EmailMultiAlternatives)
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    # The plain part is the rendered text, untouched (the link's signature is timed).
    assert message.body == (
        f"Dear {SCRIPT},\n\nSee https://shop.example.com/sale?a=1&b=2 today.\nBye"
        f"\n\n-- \nUnsubscribe: {link}"
    )
    html = html_of(message)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_links_paragraphs_and_the_unsubscribe_link(campaign):
    customer = CustomerFactory(name="Ada Lovelace")
    message = Composer(campaign, [customer.pk]).build(customer, "")
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    html = html_of(message)

    assert '<a href="https://shop.example.com/sale?a=1&amp;b=2"' in html
    assert "<p>Dear Ada Lovelace,</p>" in html
    assert "today.<br>Bye" in html
    assert f'<a href="{link}" rel="nofollow">{link}</a>' in html  # in the text, as a link
    footer = html.rsplit("<a href=", 1)[1]  # and at the bottom
    assert footer.startswith(f'"{link}"') and ">Unsubscribe</a>" in footer
    assert html.lstrip().startswith("<!DOCTYPE html>")


def test_html_body_escapes_everything_but_its_own_markup():
    link = 'https://crm.example.com/m/u/abc/?x="><img src=x onerror=alert(1)>'
    html = html_body('Tom & Jerry <b>bold</b> "quoted"\nhttp://a.example/<x>', link)
    assert "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot;" in html
    assert "<b>" not in html and "<img" not in html and "<x>" not in html
    assert "&quot;&gt;&lt;img" in html  # the link is an attribute value, escaped


def test_the_whole_message_is_multipart_alternative(campaign):
    customer = CustomerFactory(name=SCRIPT)
    message = Composer(campaign, [customer.pk]).build(customer, "")
    raw = message.message()
    assert raw.get_content_type() == "multipart/alternative"
    plain, html = raw.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert SCRIPT in plain.get_payload(decode=True).decode()
    assert "<script" not in html.get_payload(decode=True).decode()
    assert raw["List-Unsubscribe"]


def test_a_sent_campaign_carries_the_html_alternative(
    marketer, campaign, django_capture_on_commit_callbacks
):
    ConsentFactory(customer=CustomerFactory(name=SCRIPT, email="s@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        assert sending.campaign_send(campaign=campaign, by=marketer) == 1
    (message,) = mail.outbox
    assert message.to == ["s@example.com"]
    assert SCRIPT in message.body
    assert "&lt;script&gt;" in html_of(message) and "<script" not in html_of(message)
    assert "List-Unsubscribe" in message.extra_headers


def test_the_test_send_has_it_too_and_the_preview_stays_plain(
    marketer, marketer_client, campaign, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(name=SCRIPT)
    ConsentFactory(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):  # the outbox delivers on commit
        response = marketer_client.post(
            reverse("marketing:campaign-test-send", args=[campaign.pk]), {"customer": customer.pk}
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [marketer.email]
    assert message.subject.startswith("[Test] Hi ")
    assert SCRIPT in message.body and "&lt;script&gt;" in html_of(message)
    assert "List-Unsubscribe" in message.extra_headers

    preview = marketer_client.get(
        reverse("marketing:campaign-preview", args=[campaign.pk]), {"customer": customer.pk}
    )
    assert preview.status_code == 200
    assert preview.context["preview"].body.startswith(f"Dear {SCRIPT},")
    page = preview.content.decode()
    assert SCRIPT not in page and "&lt;script&gt;" in page


def test_email_message_keeps_its_signature():
    message = email_message(
        subject="S", body="B", to="x@example.com", link="https://crm.example.com/u/1/"
    )
    assert message.body == "B" and message.to == ["x@example.com"]
    assert 'href="https://crm.example.com/u/1/"' in html_of(message)
