"""Meetings and the personal calendar feed: parsed with icalendar, it holds the user's
tasks and meetings with stable UIDs and UTC times; a reset link makes the old one 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from customers.calendar import feed_url
from customers.meetings import meeting_schedule
from customers.models import MEETING, Interaction
from tests.factories import ContactFactory, CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def events(client, url):
    response = client.get(path_of(url))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def a_meeting(rep, rep2):
    customer = CustomerFactory(owner=rep, name="Acme Ltd")
    start = timezone.now() + timedelta(days=1)
    return meeting_schedule(
        customer=customer,
        organizer=rep,
        summary="Quarterly review",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        attendees=[rep2],
        contacts=[ContactFactory(customer=customer)],
    )


def test_feed_holds_tasks_and_meetings(rep, rep2, client):
    meeting = a_meeting(rep, rep2)
    task = TaskFactory(assignee=rep, title="Send the offer")
    found = events(client, feed_url(rep))  # no login: the secret URL is the key
    uids = {uid.split("@")[0] for uid in found}
    assert uids == {f"meeting-{meeting.pk}", f"task-{task.pk}"}
    event = next(e for uid, e in found.items() if uid.startswith("meeting-"))
    assert "Quarterly review" in str(event["SUMMARY"]) and "DTSTAMP" in event
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=1)
    assert set(events(client, feed_url(rep))) == set(found)  # UIDs are stable


def test_a_meeting_names_its_organizer_and_attendees(
    rep, rep2, client, django_assert_max_num_queries
):
    """The feed had the meeting's times but not who comes: the calendar app showed nobody."""
    rep.email, rep2.email = "rep@example.com", "rep2@example.com"
    rep.save(), rep2.save()
    meeting = a_meeting(rep, rep2)
    contact = meeting.attendee_contacts.get()
    event = next(
        e for uid, e in events(client, feed_url(rep)).items() if uid.startswith("meeting-")
    )
    assert str(event["ORGANIZER"]) == "mailto:rep@example.com"
    attendees = event["ATTENDEE"]
    addresses = {str(a) for a in (attendees if isinstance(attendees, list) else [attendees])}
    assert addresses == {"mailto:rep2@example.com", f"mailto:{contact.email}"}
    assert contact.name in str(event["DESCRIPTION"])
    for _ in range(3):
        a_meeting(rep, rep2)
    with django_assert_max_num_queries(6):  # the attendees come with the meetings
        client.get(path_of(feed_url(rep)))


def test_an_attendee_sees_the_meeting_others_do_not(rep, rep2, manager, client):
    meeting = a_meeting(rep, rep2)
    assert any(uid.startswith(f"meeting-{meeting.pk}@") for uid in events(client, feed_url(rep2)))
    assert events(client, feed_url(manager)) == {}


def test_reset_makes_the_old_link_404(rep, rep_client, client):
    old = feed_url(rep)
    assert rep_client.get(reverse("customers:calendar")).status_code == 200
    assert rep_client.post(reverse("customers:calendar")).status_code == 302
    assert client.get(path_of(old)).status_code == 404
    assert client.get(path_of(feed_url(rep))).status_code == 200


def test_a_forged_or_altered_token_is_404(rep, client):
    url = path_of(feed_url(rep))
    assert client.get(url.replace(".ics", "x.ics")).status_code == 404
    assert client.get(reverse("customers:calendar-feed", args=["1.2.3"])).status_code == 404


def test_meeting_form_schedules_a_meeting(rep, rep2, rep_client):
    customer = CustomerFactory(owner=rep)
    url = reverse("customers:meeting-create", args=[customer.pk])
    assert rep_client.get(url).status_code == 200
    start = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
    fmt = "%Y-%m-%dT%H:%M"
    response = rep_client.post(
        url,
        {
            "summary": "Demo",
            "starts_at": start.strftime(fmt),
            "ends_at": (start + timedelta(minutes=45)).strftime(fmt),
            "attendees": [rep2.pk],
        },
    )
    assert response.status_code == 302
    meeting = Interaction.objects.get(channel=MEETING)
    assert set(meeting.attendees.all()) == {rep, rep2}
    assert meeting.ends_at - meeting.occurred_at == timedelta(minutes=45)
    backwards = rep_client.post(
        url, {"summary": "X", "starts_at": start.strftime(fmt), "ends_at": "2000-01-01T00:00"}
    )
    assert backwards.status_code == 200 and Interaction.objects.count() == 1


def test_meeting_form_of_another_reps_customer_is_refused(rep, rep2_client):
    customer = CustomerFactory(owner=rep)
    url = reverse("customers:meeting-create", args=[customer.pk])
    assert rep2_client.get(url).status_code in (403, 404)
