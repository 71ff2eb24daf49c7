"""A notification is read in the reader's language, not in the language of whoever caused
it: the bell and its list in the active language, emails (at once and the daily digest) in
the recipient's profile language (issue 16, the review's first gap)."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from core.models import Notification, OutboxMessage, UserProfile
from core.notification_services import digest_send
from core.notifications import notify, preferences_save
from sales.notices import deal_assigned_notify
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

ENGLISH = "manager assigned you the deal Big order"
CHINESE = "manager 将商机 Big order 分配给了您"


def assign_in_chinese(rep, manager):
    """A Chinese-speaking manager gives the rep a deal: the manager's request is in Chinese."""
    deal = DealFactory(owner=rep, title="Big order")
    with translation.override("zh-hans"):
        deal_assigned_notify(deal=deal, by=manager)
    return Notification.objects.get(recipient=rep)


def in_chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def test_the_list_shows_the_readers_language_not_the_actors(rep, manager, rep_client):
    notification = assign_in_chinese(rep, manager)
    assert notification.text == ENGLISH  # stored words: untranslated
    page = rep_client.get(reverse("notifications:list")).text
    assert ENGLISH in page and CHINESE not in page
    page = in_chinese(rep_client).get(reverse("notifications:list")).text
    assert CHINESE in page and ENGLISH not in page


def test_an_email_at_once_is_in_the_recipients_language(rep, manager):
    preferences_save(user=rep, choices={"assigned": "email_now"})
    assign_in_chinese(rep, manager)
    assert ENGLISH in OutboxMessage.objects.get().subject  # no profile: the site's language
    OutboxMessage.objects.all().delete()
    Notification.objects.all().delete()
    UserProfile.objects.create(user=rep, language="zh-hans")
    with translation.override("en"):  # the manager reads English now: the rep still not
        deal_assigned_notify(deal=DealFactory(owner=rep, title="Big order"), by=manager)
    email = OutboxMessage.objects.get()
    assert CHINESE in email.subject and CHINESE in email.text


def test_the_digest_is_in_the_recipients_language(rep, manager):
    preferences_save(user=rep, choices={"assigned": "digest"})
    UserProfile.objects.create(user=rep, language="zh-hans")
    assign_in_chinese(rep, manager)
    assert digest_send() == 1
    assert CHINESE in OutboxMessage.objects.get().text


def test_a_row_from_before_stored_words_shows_its_text(rep, rep_client):
    Notification.objects.create(recipient=rep, kind="assigned", text="Old words, as written")
    page = in_chinese(rep_client).get(reverse("notifications:list")).text
    assert "Old words, as written" in page


def test_params_a_message_does_not_name_cannot_break_the_list(rep, rep_client):
    notify(recipient=rep, kind="assigned", message="%(user)s did %(what)s", params={"user": "x"})
    notify(recipient=rep, kind="assigned", message="100% done")
    page = rep_client.get(reverse("notifications:list"))
    assert page.status_code == 200 and "100% done" in page.text


def test_long_params_are_cut_and_the_text_fits(rep):
    title = "x" * 1000
    deal_assigned_notify(deal=DealFactory(owner=rep, title=title[:200]), by=rep)  # own: none
    notification = notify(
        recipient=rep, kind="assigned", message="%(title)s", params={"title": title}
    )
    assert notification is not None
    assert len(notification.params["title"]) == 200 and len(notification.display_text) <= 300


def test_a_nul_in_a_param_is_dropped(rep):
    """An email subject may carry one; PostgreSQL's jsonb refuses it."""
    notification = notify(
        recipient=rep, kind="reply", message="Email: %(subject)s", params={"subject": "a\x00b"}
    )
    assert notification is not None and notification.display_text == "Email: ab"
