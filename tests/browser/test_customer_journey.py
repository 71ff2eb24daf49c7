"""The main journeys, driven through Chromium like a user: forms, links, htmx swaps, the navbar.

From the issue: a sales rep logs in, creates a customer, logs a call and a follow-up task
from the 360° page, and sees them on the timeline and in My tasks.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Customer, Interaction, Task
from tests.browser.support import field
from tests.factories import CustomerFactory

pytestmark = pytest.mark.browser

LONG_COMPANY = "深圳市前海微众国际供应链管理有限公司 (Shenzhen Qianhai International Supply Chain Management Co., Ltd.)"


def nav(page):
    return page.get_by_role("navigation", name="Main navigation")


def mark_page(page):
    """Set a flag in the window that a full page load would clear (to prove an htmx swap)."""
    page.evaluate("window.__sameDocument = true")


def still_same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_rep_creates_customer_logs_call_and_follow_up_then_completes_it(page, login, rep):
    login(page, rep)

    nav(page).get_by_role("link", name="Customers", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Customers")
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New customer")

    field(page, "Name").fill("王小明")
    field(page, "Company").fill(LONG_COMPANY)
    field(page, "Email").fill("Wang.Xiaoming@Example.cn")
    field(page, "Phone").fill("+86 138 0013 8000")
    page.get_by_role("button", name="Save").click()

    customer = Customer.objects.get(name="王小明")
    detail_url = page.url
    assert detail_url.endswith(customer.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text("王小明")
    expect(page.get_by_text(LONG_COMPANY)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Customer “王小明” created.")
    assert customer.owner == rep
    assert customer.email == "wang.xiaoming@example.cn"  # normalised by the form

    # Log a call: htmx replaces the activity block; the page is not reloaded.
    mark_page(page)
    log_pane = page.locator("#log-interaction")
    expect(log_pane).to_be_visible()
    field(log_pane, "Channel").select_option(label="Phone")
    summary = "电话沟通：客户想要下个月的报价 (wants a quote for next month)"
    field(log_pane, "Summary").fill(summary)
    log_pane.get_by_role("button", name="Log interaction").click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(summary)
    expect(timeline.locator("li.kind-interaction").first).to_contain_text("Phone")
    expect(page.locator("#activity")).to_contain_text("Interaction logged.")
    assert page.url == detail_url
    assert still_same_document(page), "logging an interaction reloaded the page"
    interaction = Interaction.objects.get(customer=customer)
    assert (interaction.channel, interaction.logged_by) == ("phone", rep)

    # A follow-up task, from the other tab of the same (swapped-in) block.
    page.get_by_role("tab", name="Add follow-up task").click()
    task_pane = page.locator("#add-task")
    expect(task_pane).to_be_visible()
    due = timezone.localdate() + timedelta(days=3)
    field(task_pane, "Title").fill("发送报价单 / send the quote")
    field(task_pane, "Due date").fill(due.isoformat())
    task_pane.get_by_role("button", name="Add task").click()

    expect(timeline.locator("li.kind-task")).to_contain_text("发送报价单 / send the quote")
    expect(timeline).to_contain_text(summary)
    expect(page.locator("#activity")).to_contain_text("Task added.")
    assert page.url == detail_url
    assert still_same_document(page), "adding a task reloaded the page"
    task = Task.objects.get(customer=customer)
    assert (task.assignee, task.due_date, task.done) == (rep, due, False)

    # My tasks: the task, its customer, and the open-task badge in the navbar.
    my_tasks_link = nav(page).get_by_role("link", name=re.compile(r"^My tasks"))
    my_tasks_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My tasks")
    expect(my_tasks_link.locator(".badge")).to_have_text("1")
    item = page.locator("#task-list li").filter(has_text="发送报价单 / send the quote")
    expect(item).to_have_count(1)
    expect(item.get_by_role("link", name="王小明")).to_have_attribute(
        "href", customer.get_absolute_url()
    )

    item.get_by_role("button", name="Done").click()
    # The row offers "Undo" for a few seconds, then leaves the list (no page load).
    expect(item.get_by_role("button", name="Undo")).to_be_visible()
    expect(my_tasks_link.locator(".badge")).to_have_count(0)
    expect(item).to_have_count(0, timeout=10_000)
    page.reload()
    expect(page.locator("#task-list")).to_contain_text("No open tasks.")
    task.refresh_from_db()
    assert task.done

    # The 360° page shows it as done.
    page.goto(customer.get_absolute_url())
    expect(page.locator("#timeline li.kind-task.done")).to_contain_text("Done")


def test_duplicate_email_warns_with_a_link_and_save_anyway_saves(page, login, rep):
    existing = CustomerFactory(name="李娜", email="li.na@example.com", owner=rep)
    login(page, rep)
    page.goto("/customers/new/")

    field(page, "Name").fill("Li Na")
    field(page, "Email").fill("LI.NA@example.com")
    page.get_by_role("button", name="Save").click()

    warning = page.locator("form .alert-danger")
    expect(warning).to_contain_text("A customer with this email or phone already exists")
    expect(warning.get_by_role("link", name="李娜")).to_have_attribute(
        "href", existing.get_absolute_url()
    )
    assert page.url.endswith("/customers/new/")
    assert Customer.objects.count() == 1
    # What the user typed is kept.
    expect(field(page, "Name")).to_have_value("Li Na")

    page.get_by_label("Save anyway: this is not a duplicate").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Li Na")
    expect(page.locator("main")).to_contain_text("Customer “Li Na” created.")
    assert Customer.objects.filter(email="li.na@example.com").count() == 2


def test_navbar_search_suggests_while_typing_and_enter_opens_the_search_page(page, login, rep):
    wanted = CustomerFactory(name="王小明", organization=LONG_COMPANY, email="xm@example.cn")
    CustomerFactory(name="王小红", email="xh@example.cn")
    CustomerFactory(name="Peter Müller", email="peter@example.de")
    login(page, rep)
    mark_page(page)

    box = nav(page).get_by_role("searchbox", name="Search")
    box.press_sequentially("王小", delay=50)

    suggestions = page.locator("#search-suggestions")
    expect(suggestions.get_by_role("link")).to_have_count(3)  # two customers, "Show all"
    expect(suggestions).to_contain_text("王小明")
    expect(suggestions).to_contain_text("王小红")
    expect(suggestions).not_to_contain_text("Peter")
    assert still_same_document(page), "suggestions must not reload the page"
    # The arrow keys walk the suggestions and back to the box; Escape closes them.
    box.press("ArrowDown")
    expect(suggestions.get_by_role("link").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(suggestions.get_by_role("link").nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()
    box.press("Escape")
    expect(suggestions.get_by_role("link")).to_have_count(0)

    box.press("Enter")
    page.wait_for_url(re.compile(r"/customers/search/\?q="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    results = page.locator("main #search-customers")
    expect(results.get_by_role("link")).to_have_count(2)
    expect(page.locator("main").get_by_role("searchbox")).to_have_value("王小")

    results.get_by_role("link", name=re.compile("王小明")).click()
    expect(page).to_have_url(re.compile(re.escape(wanted.get_absolute_url()) + "$"))


def test_language_selector_switches_to_simplified_chinese(page, login, rep):
    customer = CustomerFactory(name="陈美玲", organization=LONG_COMPANY)
    login(page, rep)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    with page.expect_navigation():
        page.get_by_label("Language").select_option(value="zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert page.url.endswith("/")  # back on the page it was switched from

    # The language stays for the next pages, and they still work (links by address, not by
    # their text: the translations are not finished yet).
    page.locator('nav a[href="/customers/"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("tbody").get_by_role("link", name="陈美玲").click()
    expect(page).to_have_url(re.compile(re.escape(customer.get_absolute_url()) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_contain_text("陈美玲")
    expect(page.locator("select[name=language]")).to_have_value("zh-hans")


def test_edit_conflict_keeps_the_first_save_and_tells_the_second_editor(
    new_page, login, manager, rep
):
    customer = CustomerFactory(name="周杰", city="Shenzhen", phone="+86 755 1234 5678", owner=rep)
    edit_url = f"/customers/{customer.pk}/edit/"
    first, second = new_page(), new_page()
    for browser_page in (first, second):
        login(browser_page, manager)
        browser_page.goto(edit_url)
        expect(browser_page.get_by_role("heading", level=1)).to_have_text("Edit customer")

    field(first, "City").fill("Guangzhou")
    first.get_by_role("button", name="Save").click()
    expect(first.locator("main")).to_contain_text("Changes to “周杰” saved.")

    field(second, "Phone").fill("+86 20 8888 0000")
    second.get_by_role("button", name="Save").click()
    expect(second.locator("form .alert-danger")).to_contain_text(
        "Someone else saved this customer while you were editing"
    )
    assert second.url.endswith(edit_url)

    customer.refresh_from_db()
    assert (customer.city, customer.phone) == ("Guangzhou", "+86 755 1234 5678")

    # Reloading the form shows the first editor's change; saving then works.
    second.goto(edit_url)
    expect(field(second, "City")).to_have_value("Guangzhou")
    field(second, "Phone").fill("+86 20 8888 0000")
    second.get_by_role("button", name="Save").click()
    expect(second.locator("main")).to_contain_text("Changes to “周杰” saved.")
    customer.refresh_from_db()
    assert (customer.city, customer.phone) == ("Guangzhou", "+86 20 8888 0000")
