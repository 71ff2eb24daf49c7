"""A manager hands a customer their data, then erases them (issue 13, point 7), in Chromium.

Set CRM_SHOTS_DIR to keep the pages as PNGs (1440 and 390 px, English and Chinese).
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    TicketFactory,
)

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("CRM_SHOTS_DIR", "")


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


@pytest.fixture
def customer(rep):
    customer = CustomerFactory(
        name="深圳市前海微众国际供应链管理有限公司",
        email="contact@weizhong-example.cn",
        phone="+86 755 5555 0123",
        address="前海深港合作区前湾一路1号A栋201室",
        owner=rep,
    )
    ContactFactory(customer=customer, name="陈思远")
    InteractionFactory(customer=customer, summary="电话询价：集装箱运输")
    OrderFactory(customer=customer, total=Decimal("8800.00"))
    TicketFactory(customer=customer, subject="货物延误")
    return customer


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_manager_downloads_the_data_then_erases_the_customer(
    new_page, login, base_url, manager, customer, language
):
    page = new_page()
    login(page, manager)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page.goto(f"/customers/{customer.pk}/")
    page.locator(f"a[href='/customers/{customer.pk}/data/']").click()
    shoot(page, f"access-{language}")
    with page.expect_download() as download:
        page.locator("main form button.btn-primary").click()
    assert download.value.suggested_filename.startswith(f"customer-{customer.pk}-")

    page.goto(f"/customers/{customer.pk}/")
    page.locator(f"a[href='/customers/{customer.pk}/erase/']").click()
    expect(page.locator("h1")).to_be_visible()
    page.locator("input[name=confirmation]").fill("0")
    page.locator("main form button.btn-danger").click()  # the wrong number: refused
    expect(page.locator(".invalid-feedback")).to_be_visible()
    shoot(page, f"erase-{language}")
    page.locator("input[name=confirmation]").fill(str(customer.pk))
    page.locator("main form button.btn-danger").click()
    page.wait_for_url(f"{base_url}/customers/{customer.pk}/")
    expect(page.locator(".alert-secondary")).to_be_visible()
    shoot(page, f"erased-{language}")
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.name == f"Erased customer #{customer.pk}" and erased.address == ""
    assert erased.orders.get().total == Decimal("8800.00")
