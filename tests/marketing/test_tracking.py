"""Opens and clicks of campaign emails: the pixel and the signed redirect (marketing.tracking).

Counted per recipient, first times kept; a redirect goes only to the URL signed into its
token; an altered or foreign token is the 404 page; CRM_EMAIL_TRACKING=0 sends plain links."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from marketing.consent import unsubscribe_token
from marketing.models import CampaignRecipient
from marketing.services import sending
from marketing.tracking import (
    CLICK_LINK,
    OPEN_LINK,
    Click,
    click_url,
    open_url,
    read_click_token,
    read_open_token,
)
from marketing.views import tracking as tracking_views
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    ConsentFactory,
    CustomerFactory,
)

pytestmark = pytest.mark.django_db
R = CampaignRecipient.Status
SALE = "https://shop.example/sale?from=mail&x=1"
BODY = f"Hello {{{{ first_name }}}}, our sale: {SALE} and http://shop.example/faq."


@pytest.fixture(autouse=True)
def _fresh(fresh_cache, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def send_one(django_capture_on_commit_callbacks, **customer):
    customer = CustomerFactory(**customer)
    ConsentFactory(customer=customer)
    campaign = CampaignFactory(body=BODY)
    with django_capture_on_commit_callbacks(execute=False):
        sending.campaign_send(campaign=campaign, by=campaign.owner)
    sending.send_batches(campaign_id=campaign.pk, worker="test", paced=False)
    (message,) = mail.outbox
    return CampaignRecipient.objects.get(campaign=campaign), message


def html_of(message) -> str:
    return next(content for content, kind in message.alternatives if kind == "text/html")


def links_in(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]*)"', html)]


def local(url: str) -> str:
    return url[url.index("/m/") :]


def test_a_campaign_email_has_a_pixel_signed_links_and_a_message_id(
    django_capture_on_commit_callbacks,
):
    row, message = send_one(django_capture_on_commit_callbacks)
    html = html_of(message)
    links = links_in(html)
    clicks = [link for link in links if "/m/c/" in link]
    assert len(clicks) == 2 and SALE not in html
    assert any("/m/unsubscribe/" in link for link in links)  # never tracked
    (pixel_token,) = re.findall(r'<img src="[^"]*/m/o/([^/"]+)/"', html)
    assert read_open_token(unescape(pixel_token)) == row.pk
    assert {read_click_token(link.split("/m/c/")[1].rstrip("/")) for link in clicks} == {
        Click(row.pk, SALE),
        Click(row.pk, "http://shop.example/faq"),
    }
    assert SALE in message.body  # the plain text keeps readable links
    assert message.extra_headers["Message-ID"] == (
        f"<crm-campaign.{row.campaign_id}.{row.pk}@"
        f"{message.from_email.rpartition('@')[2].strip('>')}>"
    )


def test_with_tracking_off_the_links_are_plain_and_there_is_no_pixel(
    settings, django_capture_on_commit_callbacks
):
    settings.CRM_EMAIL_TRACKING = False
    _row, message = send_one(django_capture_on_commit_callbacks)
    html = html_of(message)
    assert "/m/c/" not in html and "/m/o/" not in html
    assert SALE in links_in(html)


def test_the_pixel_counts_opens_and_keeps_the_first_time(client):
    row = CampaignRecipientFactory(status=R.SENT, sent_at=timezone.now())
    url = local(open_url(row.pk))

    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/gif"
    assert first.content == tracking_views.PIXEL  # the same bytes for everyone
    assert "no-cache" in first["Cache-Control"]
    row.refresh_from_db()
    opened_at = row.first_opened_at
    assert row.open_count == 1 and opened_at is not None

    client.get(url)
    row.refresh_from_db()
    assert row.open_count == 2 and row.first_opened_at == opened_at


def test_a_click_counts_and_redirects_to_the_signed_url_only(client):
    row = CampaignRecipientFactory(status=R.SENT, sent_at=timezone.now())
    response = client.get(local(click_url(row.pk, SALE)))
    assert response.status_code == 302 and response["Location"] == SALE
    assert response["Referrer-Policy"] == "no-referrer"
    row.refresh_from_db()
    assert row.click_count == 1 and row.first_clicked_at is not None
    assert row.first_opened_at is not None  # a click proves an open (images blocked)
    assert row.open_count == 0

    # Query parameters cannot steer it elsewhere.
    again = client.get(
        local(click_url(row.pk, SALE)), {"next": "https://evil.example/", "url": "x"}
    )
    assert again["Location"] == SALE


def test_the_links_of_a_sent_email_work_end_to_end(client, django_capture_on_commit_callbacks):
    row, message = send_one(django_capture_on_commit_callbacks)
    clicks = [link for link in links_in(html_of(message)) if "/m/c/" in link]
    targets = [client.get(local(link))["Location"] for link in clicks]
    assert targets == [SALE, "http://shop.example/faq"]
    row.refresh_from_db()
    assert row.click_count == 2


def _tampered_tokens(recipient_id: int) -> dict[str, str]:
    good = CLICK_LINK.make([recipient_id, SALE])
    value, _sep, signature = good.rpartition(":")
    forged_payload = signing.b64_encode(
        signing.JSONSerializer().dumps([recipient_id, "https://evil.example/"])
    ).decode()
    other_payload = good.split(":", 1)[0]
    return {
        "signature changed": f"{value}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        "url swapped": good.replace(other_payload, forged_payload, 1),
        "cut short": good[:-5],
        "open token": OPEN_LINK.make(recipient_id),
        "unsubscribe token": unsubscribe_token(customer_id=1, channel="email"),
        "not a token": "hello",
        "NUL": "a\x00b",
        "huge": "x" * 5000,
        "javascript URL signed": CLICK_LINK.make([recipient_id, "javascript:alert(1)"]),
        "no host signed": CLICK_LINK.make([recipient_id, "https:///path"]),
        "bool id": CLICK_LINK.make([True, SALE]),
    }


def test_the_longest_tracked_link_still_redirects(client):
    """Links of more than about 1,600 characters were signed, then refused (security review)."""
    from marketing.tracking import MAX_TRACKED_URL

    row = CampaignRecipientFactory(status=R.SENT, sent_at=timezone.now())
    long_url = "https://shop.example/p?" + "q=%E4%B8%AD&" * ((MAX_TRACKED_URL - 30) // 12)
    assert len(long_url) <= MAX_TRACKED_URL
    response = client.get(local(click_url(row.pk, long_url)))
    assert response.status_code == 302 and response["Location"] == long_url


@pytest.mark.parametrize(
    "case",
    list(_tampered_tokens(1)),
)
def test_a_tampered_or_foreign_click_token_is_the_404_page(client, case):
    row = CampaignRecipientFactory(status=R.SENT, sent_at=timezone.now())
    token = _tampered_tokens(row.pk)[case]
    response = client.get(reverse("public-marketing:track-click", args=["t"]).replace("t", token))
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert "Location" not in response
    row.refresh_from_db()
    assert row.click_count == 0


@pytest.mark.parametrize("case", ["click token", "unsubscribe token", "altered", "bool"])
def test_a_tampered_or_foreign_open_token_is_the_404_page(client, case):
    row = CampaignRecipientFactory(status=R.SENT, sent_at=timezone.now())
    token = {
        "click token": CLICK_LINK.make([row.pk, SALE]),
        "unsubscribe token": unsubscribe_token(customer_id=row.customer_id, channel="email"),
        "altered": OPEN_LINK.make(row.pk)[:-1] + "x",
        "bool": OPEN_LINK.make(True),
    }[case]
    response = client.get(reverse("public-marketing:track-open", args=["t"]).replace("t", token))
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.open_count == 0


def test_a_recipient_that_no_longer_exists_still_gets_its_page(client):
    response = client.get(local(click_url(987654321, SALE)))
    assert response.status_code == 302 and response["Location"] == SALE
    assert client.get(local(open_url(987654321))).status_code == 200


def test_counting_is_rate_limited_but_the_answers_are_not(client, monkeypatch):
    monkeypatch.setattr(tracking_views, "COUNTS_PER_MINUTE", 3)
    row = CampaignRecipientFactory(status=R.SENT, sent_at=timezone.now())
    for _i in range(6):
        assert client.get(local(open_url(row.pk))).status_code == 200
        assert client.get(local(click_url(row.pk, SALE))).status_code == 302
    row.refresh_from_db()
    assert row.open_count == 3 and row.click_count == 3


def test_the_public_views_need_no_login_and_do_not_take_posts():
    anonymous = Client()
    row = CampaignRecipientFactory(status=R.SENT, sent_at=timezone.now())
    assert anonymous.get(local(open_url(row.pk))).status_code == 200
    assert anonymous.post(local(open_url(row.pk))).status_code == 405
    assert anonymous.post(local(click_url(row.pk, SALE))).status_code == 405


# --- the report, the list and the API --------------------------------------------------


@pytest.fixture
def campaign(marketer):
    """4 sent: 1 bounced, 2 opened (one also clicked), 1 queued (not counted)."""
    campaign = CampaignFactory(owner=marketer, name="Spring sale")
    now = timezone.now() - timedelta(hours=1)
    rows = [
        CampaignRecipientFactory(campaign=campaign, status=R.SENT, sent_at=now) for _i in range(3)
    ]
    CampaignRecipientFactory(campaign=campaign, status=R.BOUNCED, sent_at=now, bounce_kind="hard")
    CampaignRecipientFactory(campaign=campaign, status=R.QUEUED)
    CampaignRecipient.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(
        first_opened_at=now, open_count=3
    )
    CampaignRecipient.objects.filter(pk=rows[0].pk).update(first_clicked_at=now, click_count=5)
    return campaign


def test_the_report_card_shows_bounced_opened_and_clicked(marketer_client, campaign):
    html = marketer_client.get(
        reverse("marketing:campaign-report", args=[campaign.pk])
    ).content.decode()
    assert 'id="figure-bounced">1 <span class="text-secondary">(25.0%)</span>' in html
    assert 'id="figure-opened">2 <span class="text-secondary">(50.0%)</span>' in html
    assert 'id="figure-clicked">1 <span class="text-secondary">(25.0%)</span>' in html


def test_the_campaign_list_shows_the_rates(marketer_client, campaign):
    empty = CampaignFactory(name="Nothing sent")
    html = marketer_client.get(reverse("marketing:campaign-list")).content.decode()
    rows = {
        name: row
        for row in html.split("<tr>")
        for name in ("Spring sale", "Nothing sent")
        if name in row
    }
    assert 'data-figure="sent">4<' in rows["Spring sale"]
    assert 'data-figure="bounced">25.0%<' in rows["Spring sale"]
    assert 'data-figure="opened">50.0%<' in rows["Spring sale"]
    assert 'data-figure="clicked">25.0%<' in rows["Spring sale"]
    assert 'data-figure="opened">—<' in rows[empty.name]


def test_opens_and_clicks_are_shown_for_email_campaigns_only(marketer_client, marketer):
    sms = CampaignFactory(owner=marketer, name="Text blast", channel="sms")
    CampaignRecipientFactory(campaign=sms, status=R.SENT, sent_at=timezone.now())
    list_html = marketer_client.get(reverse("marketing:campaign-list")).content.decode()
    (row,) = [row for row in list_html.split("<tr>") if "Text blast" in row]
    assert 'data-figure="sent">1<' in row and 'data-figure="opened">—<' in row
    report = marketer_client.get(reverse("marketing:campaign-report", args=[sms.pk]))
    assert 'id="figure-bounced"' in report.content.decode()
    assert 'id="figure-opened"' not in report.content.decode()


def test_the_api_results_carry_the_feedback(marketer_client, campaign):
    data = marketer_client.get(reverse("api:campaign-results", args=[campaign.pk])).json()
    assert (data["sent"], data["bounced"], data["opened"], data["clicked"]) == (4, 1, 2, 1)
    assert float(data["open_rate"]) == 0.5 and float(data["click_rate"]) == 0.25
    assert float(data["bounce_rate"]) == 0.25


def test_roles_without_campaigns_see_no_feedback(agent_client, nobody_client, campaign):
    for client in (agent_client, nobody_client):
        assert client.get(reverse("marketing:campaign-report", args=[campaign.pk])).status_code in (
            403,
            404,
        )
        assert client.get(reverse("marketing:campaign-list")).status_code == 403
        assert client.get(reverse("api:campaign-results", args=[campaign.pk])).status_code in (
            403,
            404,
        )
