"""The bell: notify() with preferences (email at once, daily digest through the outbox),
mentions, the list and its mark-read actions, and nobody else's notifications."""

from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from core.models import Notification, NotificationPreference, OutboxMessage
from core.notification_services import digest_send
from core.notifications import (
    mentioned_users,
    notify,
    notify_mentions,
    preferences_save,
    unread_count,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def tell(user, text="Something happened", kind="assigned", **kwargs):
    return notify(recipient=user, kind=kind, message=text, url="/customers/", **kwargs)


def test_in_app_only_by_default_no_email(rep):
    assert tell(rep) is not None
    assert unread_count(rep) == 1
    assert not OutboxMessage.objects.exists()


def test_email_at_once_goes_through_the_outbox(rep):
    preferences_save(user=rep, choices={"assigned": "email_now"})
    notification = tell(rep, text="rep2 assigned you Acme")
    message = OutboxMessage.objects.get()
    assert message.to == ["rep@example.com"] and "rep2 assigned you Acme" in message.subject
    assert "http" in message.text and "/customers/" in message.text
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None


def test_other_kinds_stay_in_app_when_one_kind_is_emailed(rep):
    preferences_save(user=rep, choices={"assigned": "email_now"})
    tell(rep, kind="mention")
    assert not OutboxMessage.objects.exists()


def test_daily_digest_collects_unread_unemailed_notifications_once(rep, rep2):
    preferences_save(user=rep, choices={"assigned": "digest", "mention": "digest"})
    tell(rep, text="first")
    tell(rep, text="second", kind="mention")
    tell(rep, text="not in the digest", kind="reply")
    read = tell(rep, text="already read")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    tell(rep2, text="rep2 chose nothing")
    assert not OutboxMessage.objects.exists()  # nothing at once
    assert digest_send() == 1
    digest = OutboxMessage.objects.get()
    assert digest.to == ["rep@example.com"] and "2" in digest.subject
    assert "first" in digest.text and "second" in digest.text
    assert "not in the digest" not in digest.text and "already read" not in digest.text
    assert digest_send(now=timezone.now() + timedelta(minutes=1)) == 0  # once


def test_a_key_makes_a_notification_once(rep):
    assert tell(rep, key="k1") is not None
    assert tell(rep, key="k1") is None
    assert Notification.objects.count() == 1


def test_nobody_is_told_of_their_own_action(rep):
    assert tell(rep, actor=rep) is None


def test_mentions_known_users_only_never_the_author(rep, rep2, manager):
    text = "Call back @rep2, ask @manager. @ghost is unknown; mail bob@rep2.com; me: @rep"
    assert [u.username for u in mentioned_users(text, author=rep)] == ["rep2", "manager"]
    assert mentioned_users("no mention, an address a@rep2", author=rep) == []
    told = notify_mentions(
        text=text, author=rep, message="%(name)s: a note", params={}, url="/x/", key="note:1"
    )
    assert told == 2
    assert not Notification.objects.filter(recipient=rep).exists()
    assert (
        notify_mentions(
            text=text, author=rep, message="%(name)s: a note", params={}, url="/x/", key="note:1"
        )
        == 0
    )


def test_list_mark_one_and_all_read(rep, rep_client):
    first = tell(rep, text="first")
    tell(rep, text="second")
    page = rep_client.get(reverse("notifications:list"))
    assert page.status_code == 200 and "first" in page.text and "second" in page.text
    rep_client.post(reverse("notifications:read", args=[first.pk]))
    assert unread_count(rep) == 1
    rep_client.post(reverse("notifications:read-all"))
    assert unread_count(rep) == 0


def test_opening_a_notification_marks_it_read_and_follows_its_link(rep, rep_client):
    notification = tell(rep)
    response = rep_client.get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == "/customers/"
    assert unread_count(rep) == 0


def test_another_users_notification_is_404(rep, rep2_client):
    notification = tell(rep)
    assert (
        rep2_client.post(reverse("notifications:read", args=[notification.pk])).status_code == 404
    )
    assert rep2_client.get(reverse("notifications:open", args=[notification.pk])).status_code == 404
    assert unread_count(rep) == 1


def test_badge_shows_the_unread_count(rep, rep_client):
    tell(rep)
    tell(rep, text="two")
    badge = rep_client.get(reverse("notifications:badge"))
    assert 'data-count="2"' in badge.text


def test_the_page_loads_the_bell_count_after_it(rep, rep_client):
    home = rep_client.get(reverse("customers:my-tasks"))
    assert reverse("notifications:badge") in home.text and "notification-count" not in home.text


def test_preferences_page_saves_each_kind(rep, rep_client):
    url = reverse("notifications:preferences")
    assert rep_client.get(url).status_code == 200
    posted = dict.fromkeys(["task_due", "assigned", "reply", "sla_breach"], "in_app")
    posted |= {"mention": "email_now", "deal_closed": "digest"}
    assert rep_client.post(url, posted).status_code == 302
    chosen = dict(NotificationPreference.objects.filter(user=rep).values_list("kind", "delivery"))
    assert chosen["mention"] == "email_now" and chosen["deal_closed"] == "digest"
    bad = rep_client.post(url, {**posted, "mention": "<script>"})
    assert (
        bad.status_code == 200 and "<script>" not in bad.text.split("</nav>")[-1].split("form")[0]
    )


def test_an_inactive_user_is_not_notified(db):
    gone = UserFactory(username="gone", is_active=False)
    assert tell(gone) is None


def test_the_email_subject_is_one_line_when_the_text_has_newlines(rep):
    """A task titled "a\\nb" made a subject that failed with BadHeaderError on every retry."""
    preferences_save(user=rep, choices={"assigned": "email_now"})
    tell(rep, text="rep2 assigned you the task a\nb")
    message = OutboxMessage.objects.get()
    assert message.subject == "rep2 assigned you the task a b"
    EmailMessage(subject=message.subject, body="", to=message.to).message()  # no BadHeaderError
