"""A manager looks for duplicates again (“Refresh now”), finds two, merges them side by side choosing a field from the
right-hand record, and the kept customer shows the chosen value and both emails."""

import pytest
from playwright.sync_api import expect

from customers.models import Customer, CustomerMerge
from tests.factories import CustomerFactory

pytestmark = pytest.mark.browser


def test_manager_merges_two_duplicates_side_by_side(page, login, manager, base_url):
    kept = CustomerFactory(
        name="Hazel Watts", email="hazel@old.example", phone="+86 111 1111", city="Shenzhen"
    )
    duplicate = CustomerFactory(
        name="Hazel Watts", email="hazel@new.example", phone="+86 222 2222", city="Beijing"
    )
    login(page, manager)
    page.goto(f"{base_url}/customers/")
    page.get_by_role("link", name="Possible duplicates").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Possible duplicates")
    expect(page.locator("main")).to_contain_text("Not checked yet.")
    page.get_by_role("button", name="Refresh now").click()  # inline here: done on return
    expect(page.locator("main")).to_contain_text("Last checked:")
    row = page.get_by_role("row").filter(has_text="hazel@new.example")
    expect(row).to_contain_text("Same name")
    row.get_by_role("link", name="Compare and merge").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Merge a duplicate into this customer"
    )
    # The right-hand column is the duplicate's: take its city, keep the left email.
    page.get_by_label("Beijing").check()
    expect(page.get_by_label("hazel@old.example")).to_be_checked()
    page.get_by_role("button", name="Merge and remove the duplicate").click()

    expect(page.locator("main")).to_contain_text("was merged into this customer")
    assert page.url.endswith(kept.get_absolute_url())
    main = page.locator("main")
    expect(main).to_contain_text("Beijing")
    expect(main).to_contain_text("hazel@old.example")
    expect(main).to_contain_text("hazel@new.example")  # kept as a contact
    expect(main).to_contain_text("was merged into this customer.")  # the timeline entry
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert CustomerMerge.objects.get(customer=kept).moved["fields"] == ["city"]
