"""Campaign texts a marketer may type that used to answer 500 (issue 13, point 8).

Both tests failed before: a thousand nested {% if %} blocks overflowed the template
parser's recursion (RecursionError, a 500 on save), and a campaign name with a line
break became the test email's subject header, which the mail module refuses.
"""

import pytest
from django.core import mail
from django.urls import reverse

from marketing.models import Campaign
from marketing.personalise import MAX_NESTING, check_template
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NESTED = "{% if name %}" * 1000 + "x" + "{% endif %}" * 1000


def _form(marketer, **fields):
    return {
        "name": "Spring",
        "channel": "email",
        "status": "draft",
        "owner": marketer.pk,
        "budget": "0",
        "actual_cost": "0",
        "attribution_days": "30",
        "subject": "Hi",
        "body": "Hello",
        **fields,
    }


def test_a_thousand_nested_blocks_are_a_field_error(marketer, marketer_client):
    response = marketer_client.post(
        reverse("marketing:campaign-create"), _form(marketer, body=NESTED)
    )
    assert response.status_code == 422
    assert "nested" in response.context["form"].errors["body"][0]
    assert not Campaign.objects.exists()


def test_reasonable_nesting_is_allowed():
    check_template("{% if name %}" * MAX_NESTING + "x" + "{% endif %}" * MAX_NESTING)


def test_a_campaign_name_with_a_line_break_is_one_line(
    marketer, marketer_client, django_capture_on_commit_callbacks
):
    ConsentFactory(customer=CustomerFactory(name="Ada"))
    response = marketer_client.post(
        reverse("marketing:campaign-create"),
        _form(marketer, name="Spring\r\nBcc: victim@example.com", subject=""),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.name == "Spring Bcc: victim@example.com"
    # A name stored some other way (admin, import) still makes a one-line subject.
    Campaign.objects.filter(pk=campaign.pk).update(name="Spring\nBcc: victim@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        sent = marketer_client.post(reverse("marketing:campaign-test-send", args=[campaign.pk]))
    assert sent.status_code == 302
    (message,) = mail.outbox
    assert message.subject == "[Test] Spring Bcc: victim@example.com"
    assert message.to == [marketer.email] and not message.bcc


def test_the_stored_name_with_a_line_break_still_previews(marketer, marketer_client):
    campaign = CampaignFactory(owner=marketer, subject="", body="Hi")
    ConsentFactory(customer=CustomerFactory())
    Campaign.objects.filter(pk=campaign.pk).update(name="A\nB")
    response = marketer_client.get(reverse("marketing:campaign-preview", args=[campaign.pk]))
    assert response.status_code == 200
