"""The personal calendar feed: a user's open tasks and meetings as iCalendar (RFC 5545).

The feed's URL is public but unguessable: it carries a signed (user id, version)
(crm.lib.signed_links); "Reset link" raises the version in CalendarFeed, so every URL made
before answers 404. Times are UTC (no VTIMEZONE needed); each event's UID is stable per
object, so calendars update an event instead of adding it twice.
"""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from crm.lib.public_links import public_url
from crm.lib.signed_links import SignedLink
from customers.models import MEETING, CalendarFeed, Interaction, Task

FEED_LINK = SignedLink(salt="customers.calendar-feed")
TASK_LENGTH = timedelta(minutes=30)
PAST_DAYS = 60  # meetings and done tasks older than this are left out
MAX_EVENTS = 2000


def _feed(user: User) -> CalendarFeed:
    return CalendarFeed.objects.get_or_create(user=user)[0]


def feed_url(user: User, request=None) -> str:
    feed = _feed(user)
    token = FEED_LINK.make([user.pk, feed.version])
    return public_url(reverse("customers:calendar-feed", args=[token]), request)


@transaction.atomic
def calendar_feed_reset(*, user: User) -> None:
    """Every feed URL made before stops working."""
    feed = CalendarFeed.objects.select_for_update().filter(user=user).first() or _feed(user)
    CalendarFeed.objects.filter(pk=feed.pk).update(version=F("version") + 1)


def user_for_token(token: str) -> User | None:
    value = FEED_LINK.read(token)
    if not (isinstance(value, list) and len(value) == 2):
        return None
    user_id, version = value
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(user_id=user_id, version=version, user__is_active=True)
        .first()
    )
    return feed.user if feed else None


def _tasks(user: User, since: datetime):
    return (
        Task.objects.filter(assignee=user, due_date__gte=since.date())
        .select_related("customer")
        .order_by("due_date", "pk")[:MAX_EVENTS]
    )


def _meetings(user: User, since: datetime):
    return (
        Interaction.objects.filter(channel=MEETING, occurred_at__gte=since)
        .filter(Q(attendees=user) | Q(logged_by=user))
        .distinct()
        .select_related("customer", "logged_by")
        .prefetch_related("attendees", "attendee_contacts")
        .order_by("occurred_at", "pk")[:MAX_EVENTS]
    )


def calendar_ics(user: User, *, domain: str, now: datetime | None = None) -> bytes:
    now = now or timezone.now()
    since = now - timedelta(days=PAST_DAYS)
    calendar = Calendar()
    calendar.add("prodid", "-//CRM//Tasks and meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"CRM · {user.get_username()}")
    for task in _tasks(user, since):
        calendar.add_component(_task_event(task, domain, now))
    for meeting in _meetings(user, since):
        calendar.add_component(_meeting_event(meeting, domain, now))
    return calendar.to_ical()


def _event(uid: str, summary: str, start: datetime, end: datetime, now: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    return event


def _task_event(task: Task, domain: str, now: datetime) -> Event:
    start = task.due_at
    title = ("✓ " if task.done else "") + f"{task.title} ({task.customer.name})"
    event = _event(f"task-{task.pk}@{domain}", title, start, start + TASK_LENGTH, now)
    event.add("url", public_url(task.customer.get_absolute_url()))
    return event


def _meeting_event(meeting: Interaction, domain: str, now: datetime) -> Event:
    end = meeting.ends_at or meeting.occurred_at + timedelta(hours=1)
    summary = f"{meeting.summary.splitlines()[0][:200]} ({meeting.customer.name})"
    event = _event(f"meeting-{meeting.pk}@{domain}", summary, meeting.occurred_at, end, now)
    organizer = meeting.logged_by
    guests = [user for user in meeting.attendees.all() if user != organizer]
    contacts = list(meeting.attendee_contacts.all())
    names = [_user_name(user) for user in ([organizer] if organizer else []) + guests]
    names += [contact.name for contact in contacts]
    event.add("description", "\n".join([meeting.summary, "", *names]) if names else meeting.summary)
    event.add("url", public_url(meeting.customer.get_absolute_url()))
    # Who comes, as a calendar app shows it: those with an address (a cal-address is a URI).
    if organizer and organizer.email:
        event.add("organizer", _address(organizer.email, _user_name(organizer)))
    invited = [(_user_name(user), user.email) for user in guests]
    for name, email in invited + [(contact.name, contact.email) for contact in contacts]:
        if email:
            event.add("attendee", _address(email, name))
    return event


def _user_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = name
    return address
