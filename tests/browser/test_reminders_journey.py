"""A rep's day with reminders, in Chromium: a task's reminder fires (the beat task) and the
bell shows it, beside a task without a reminder that fell due an hour ago; the rep opens it, snoozes another task, completes one
and undoes it; a meeting is scheduled and the personal calendar feed contains it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from core.models import Notification
from customers.models import Task
from customers.services import task_create
from customers.tasks import send_task_reminders
from tests.browser.support import field
from tests.factories import CustomerFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def midday(settings):
    """The journey at about noon local time, whenever it runs: a task due in ten minutes
    is due today (run at 23:55 it was due tomorrow, and the "today" group missed it)."""
    offset = 12 - datetime.now(UTC).hour  # -11 … +12 hours from UTC
    # Etc/GMT zones count the other way round: Etc/GMT-8 is UTC+8.
    settings.TIME_ZONE = f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"
    assert 10 <= timezone.localtime().hour <= 13


def test_reminder_snooze_undo_and_calendar_feed(page, login, rep, base_url, midday):
    customer = CustomerFactory(owner=rep, name="Acme Ltd")
    soon = timezone.localtime() + timedelta(minutes=10)
    call = task_create(
        customer=customer, title="Call Acme back", due_date=soon.date(),
        due_time=soon.time().replace(second=0, microsecond=0), reminder=15,
        assignee=rep, created_by=rep,
    )  # fmt: skip
    task_create(
        customer=customer, title="Send the offer", due_date=timezone.localdate(),
        assignee=rep, created_by=rep,
    )  # fmt: skip
    overdue = timezone.localtime() - timedelta(hours=1)
    task_create(
        customer=customer, title="Chase the invoice", due_date=overdue.date(),
        due_time=overdue.time().replace(second=0, microsecond=0), assignee=rep, created_by=rep,
    )  # fmt: skip
    # What beat runs every minute: the reminder, and the task without one that fell due
    # (and "Send the offer" too once today's 9:00 has passed: it has no time, no reminder).
    told = send_task_reminders()
    assert told == Notification.objects.filter(recipient=rep).count() >= 2
    assert send_task_reminders() == 0

    login(page, rep)
    bell = page.locator("#notification-bell")
    expect(bell.locator(".notification-count")).to_have_text(str(told))
    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.locator("#notification-list")).to_contain_text(
        "Overdue: Chase the invoice (Acme Ltd)"
    )
    page.get_by_role("link", name=re.compile("Call Acme back")).click()
    expect(page).to_have_url(re.compile(rf"{customer.get_absolute_url()}$"))
    expect(page.locator("#notification-bell .notification-count")).to_have_text(str(told - 1))

    # My tasks: both are today's; snooze one to tomorrow, complete the other and undo it.
    page.goto(f"{base_url}/customers/tasks/")
    today = page.locator('[data-group="today"]')
    expect(today).to_contain_text("Call Acme back")
    offer = page.locator(".task-row").filter(has_text="Send the offer")
    offer.get_by_role("button", name="Snooze").click()
    offer.get_by_role("button", name="Tomorrow").click()
    expect(offer.locator(".task-due")).to_contain_text("09:00")  # tomorrow at 9:00
    assert Task.objects.get(title="Send the offer").due_date == timezone.localdate() + timedelta(1)

    offer.get_by_role("button", name="Done").click()  # done for good: gone after the undo window
    expect(offer.get_by_role("button", name="Undo")).to_be_visible()
    expect(offer).to_have_count(0, timeout=10_000)
    assert Task.objects.get(title="Send the offer").done

    row = page.locator(f"#task-{call.pk}")
    row.get_by_role("button", name="Done").click()
    expect(row.get_by_role("button", name="Undo")).to_be_visible()
    row.get_by_role("button", name="Undo").click()
    expect(row.get_by_role("button", name="Done")).to_be_visible()
    page.wait_for_timeout(6000)  # the undo window has passed: the reopened row stays
    expect(row).to_be_visible()
    call.refresh_from_db()
    assert not call.done

    # A meeting, then the calendar feed holds it and the task.
    page.goto(f"{base_url}{customer.get_absolute_url()}")
    page.get_by_role("link", name="Schedule a meeting").click()
    field(page, "Subject").fill("Quarterly review")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("main")).to_contain_text("Meeting scheduled.")
    page.goto(f"{base_url}/customers/calendar/")
    feed = page.locator("#feed-url").input_value()
    body = page.request.get(feed.replace("http://127.0.0.1:8000", base_url)).body()
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT")]
    assert any("Quarterly review" in s for s in summaries)
    assert any("Call Acme back" in s for s in summaries)
