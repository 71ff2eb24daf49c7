"""The one signed-link codec: one failure mode (None), and every link already sent still works."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.urls import reverse

from crm.lib.signed_links import SignedLink
from customers.models import Consent
from marketing import consent, lead_form_link
from marketing.models import Campaign
from marketing.selectors import campaign_from_token
from service import links
from service.models import Ticket
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory, TicketFactory

JSON_LINK = SignedLink(salt="tests.json")
TEXT_LINK = SignedLink(salt="tests.text", plain_text=True)
AGED_LINK = SignedLink(salt="tests.aged", max_age=timedelta(days=30))


def _signed_days_ago(days: float, monkeypatch, make):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - days * 86400)
    token = make()
    monkeypatch.setattr(time, "time", real_time)
    return token


@pytest.mark.parametrize("value", [42, [42, "email"], {"a": [1, 2]}, "text", 0, False])
def test_json_values_round_trip(value):
    assert JSON_LINK.read(JSON_LINK.make(value)) == value


def test_a_json_token_is_byte_for_byte_what_signing_dumps_makes():
    assert JSON_LINK.make([42, "email"]) == signing.dumps([42, "email"], salt="tests.json")


def test_plain_text_is_carried_readably():
    token = TEXT_LINK.make("17.123")
    assert token.startswith("17.123:")
    assert TEXT_LINK.read(token) == "17.123"


@pytest.mark.parametrize("link", [JSON_LINK, TEXT_LINK])
@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: "9" + t,  # the value
        lambda t: t.replace(":", "", 1),
        lambda t: t + "<script>",
        lambda t: t[:-5],  # cut short
        lambda t: t.replace(":", "\x00:", 1),
        lambda t: "\x00" * 40,
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: "a:b:c",
        lambda t: t + "x" * 300,  # too long
        lambda t: None,
        lambda t: 42,
    ],
)
def test_anything_altered_reads_as_none(link, tamper):
    token = link.make("x" if link.plain_text else 1)
    assert link.read(tamper(token)) is None
    assert not link.has_expired(tamper(token))


def test_a_token_of_another_purpose_reads_as_none():
    other = SignedLink(salt="tests.other")
    assert other.read(JSON_LINK.make(1)) is None
    assert JSON_LINK.read(other.make(1)) is None
    assert TEXT_LINK.read(SignedLink(salt="tests.other", plain_text=True).make("x")) is None


def test_a_token_made_with_another_key_reads_as_none_and_an_old_key_still_works(settings):
    forged = signing.dumps(1, salt="tests.json", key="guessed")
    assert JSON_LINK.read(forged) is None
    old = signing.dumps(1, salt="tests.json", key="the-previous-key")
    settings.SECRET_KEY_FALLBACKS = ["the-previous-key"]
    assert JSON_LINK.read(old) == 1


def test_a_signed_null_is_not_a_value():
    assert JSON_LINK.read(signing.dumps(None, salt="tests.json")) is None


def test_a_token_past_its_age_reads_as_none_and_says_it_expired(monkeypatch):
    fresh = _signed_days_ago(29, monkeypatch, lambda: AGED_LINK.make(5))
    stale = _signed_days_ago(31, monkeypatch, lambda: AGED_LINK.make(5))
    assert AGED_LINK.read(fresh) == 5 and not AGED_LINK.has_expired(fresh)
    assert AGED_LINK.read(stale) is None and AGED_LINK.has_expired(stale)
    forged_stale = stale[:-1] + ("A" if stale[-1] != "A" else "B")
    assert not AGED_LINK.has_expired(forged_stale)  # an altered old token is only invalid


def test_a_link_without_max_age_never_expires(monkeypatch):
    ancient = _signed_days_ago(3650, monkeypatch, lambda: JSON_LINK.make(5))
    assert JSON_LINK.read(ancient) == 5 and not JSON_LINK.has_expired(ancient)


# --- Links already sent in emails ------------------------------------------------------------
# Made by the code before crm.lib.signed_links, with its exact algorithm, on 2026-01-01 at
# 01:00 UTC under OLD_KEY:
#   signing.dumps([42, "email"], salt="marketing.unsubscribe")
#   signing.dumps(42, salt="marketing.preferences")
#   signing.dumps(7, salt="marketing.lead-form")
#   signing.TimestampSigner(salt="service.links.follow" / ".csat").sign("9001.1767225600000000")
OLD_KEY = "a-key-for-the-literal-tokens-in-this-test"
SIGNED_AT = 1767229200.0
UNSUBSCRIBE = "WzQyLCJlbWFpbCJd:1vb72m:a_cIjJutMNrxfcB-vtPbzBFkM7Mdrv697DZ-jq4v2eE"
PREFERENCES = "NDI:1vb72m:eZDDoW4QSmW8QuZD4cxgzAQk9znU1fu8O2LL3Cyfv3Y"
LEAD_FORM = "Nw:1vb72m:W6h7Zu0Gyc_VJCC2Qy7FG9sbOdMKJiygbJDjWGNPE8g"
FOLLOW = "9001.1767225600000000:1vb72m:z8WX6OuzNHJQeGWguwUnfmWUu8rf0xmDT7TD9mbbf_I"
CSAT = "9001.1767225600000000:1vb72m:Wx5ow0UhUSKptknFrFd1OnqjIQo9vzL_9jJGMKN8vCw"


@pytest.fixture
def old_key(settings, unhashed_static_files, fresh_cache):
    settings.SECRET_KEY = OLD_KEY


@pytest.fixture
def when_they_were_signed(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: SIGNED_AT)


def test_the_same_values_still_make_the_same_links(old_key, when_they_were_signed):
    assert consent.unsubscribe_token(customer_id=42, channel="email") == UNSUBSCRIBE
    assert consent.preferences_token(customer_id=42) == PREFERENCES
    ticket = Ticket(pk=9001, created_at=datetime.fromtimestamp(1767225600, tz=UTC))
    assert links.follow_token(ticket) == FOLLOW
    assert links.csat_token(ticket) == CSAT
    assert lead_form_link.lead_form_token(Campaign(pk=7)) == LEAD_FORM


def test_sent_marketing_links_still_open_their_pages(db, client, old_key, monkeypatch):
    customer = CustomerFactory(pk=42)
    ConsentFactory(customer=customer, channel="email")
    CampaignFactory(pk=7, status=Campaign.Status.RUNNING)
    assert consent.read_unsubscribe_token(UNSUBSCRIBE).customer_id == 42
    assert campaign_from_token(LEAD_FORM).pk == 7
    # The preferences link lives 7 days (issue 13); the unsubscribe link for ever.
    preferences = reverse("public-marketing:preferences", args=[PREFERENCES])
    monkeypatch.setattr(time, "time", lambda: SIGNED_AT + 6 * 86400)
    assert consent.read_preferences_token(PREFERENCES) == 42
    assert client.get(preferences).status_code == 200
    monkeypatch.setattr(time, "time", lambda: SIGNED_AT + 8 * 86400)
    assert client.get(preferences).status_code == 410
    monkeypatch.undo()
    assert client.get(reverse("public-marketing:lead-form", args=[LEAD_FORM])).status_code == 200
    unsubscribe = reverse("public-marketing:unsubscribe", args=[UNSUBSCRIBE])
    assert client.post(unsubscribe).status_code == 200
    assert not Consent.objects.get(customer=customer, channel="email").granted


def test_sent_ticket_links_still_open_within_their_age(db, client, old_key, monkeypatch):
    ticket = TicketFactory(pk=9001, status=Ticket.Status.RESOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=datetime.fromtimestamp(1767225600, tz=UTC)
    )
    monkeypatch.setattr(time, "time", lambda: SIGNED_AT + 29 * 86400)
    assert links.ticket_from_follow_token(FOLLOW).pk == 9001
    assert links.ticket_from_csat_token(CSAT).pk == 9001
    assert client.get(reverse("help:ticket", args=[FOLLOW])).status_code == 200
    assert client.get(reverse("help:csat", args=[CSAT])).status_code == 200
    monkeypatch.setattr(time, "time", lambda: SIGNED_AT + 31 * 86400)
    assert client.get(reverse("help:csat", args=[CSAT])).status_code == 410  # 30 days
    assert client.get(reverse("help:ticket", args=[FOLLOW])).status_code == 200  # 90 days


def test_sent_links_refuse_each_others_purpose(db, old_key, when_they_were_signed):
    assert consent.PREFERENCES_LINK.read(UNSUBSCRIBE) is None
    assert consent.UNSUBSCRIBE_LINK.read(PREFERENCES) is None
    assert lead_form_link.LEAD_FORM_LINK.read(PREFERENCES) is None
    assert links.CSAT_LINK.read(FOLLOW) is None
    assert links.FOLLOW_LINK.read(CSAT) is None
