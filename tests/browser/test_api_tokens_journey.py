"""A rep makes an API token on their account page (shown once, copied with the button),
uses it, revokes it after confirming; the API documentation (Swagger UI from our own
files) loads without a Content Security Policy violation. In Chromium.

With CRM_SHOTS=<dir> it also saves both pages at 1440 and 390 px, in English and Chinese."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("CRM_SHOTS")
WIDTHS = (1440, 390)


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=Path(SHOTS) / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_rep_makes_uses_and_revokes_a_token_and_reads_the_docs(page, login, base_url):
    rep = UserFactory(username="rep", role=roles.SALES_REP)
    login(page, rep)
    page.get_by_role("button", name="rep", exact=True).click()
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/accounts/api-tokens/")
    page.get_by_label("Name").fill("Web shop")
    page.get_by_label("Scope").select_option("read_write")
    page.get_by_role("button", name="Create token").click()
    text = page.locator("#new-api-token-text").input_value()
    assert text.startswith("crm_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()  # the copy is async
    shoot(page, "api-tokens-en")

    answer = page.request.get(
        f"{base_url}/api/v1/customers/", headers={"Authorization": f"Bearer {text}"}
    )
    assert answer.status == 200

    page.reload()
    assert page.locator("#new-api-token-text").count() == 0  # shown once
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    assert page.locator("#api-token-list .badge", has_text="Revoked").is_visible()
    answer = page.request.get(
        f"{base_url}/api/v1/customers/", headers={"Authorization": f"Bearer {text}"}
    )
    assert answer.status == 401

    page.get_by_role("button", name="rep", exact=True).click()
    page.locator(".dropdown-menu").get_by_role("link", name="API documentation").click()
    page.wait_for_url("**/api/v1/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock-summary-path", has_text="/customers/").count() > 0
    shoot(page, "api-docs-en")

    if SHOTS:
        page.goto("/accounts/api-tokens/")
        page.locator("select[name=language]").first.select_option("zh-hans")
        page.wait_for_load_state()
        page.goto("/accounts/api-tokens/")
        shoot(page, "api-tokens-zh-hans")
        page.goto("/api/v1/docs/")
        page.locator(".swagger-ui .opblock").first.wait_for()
        shoot(page, "api-docs-zh-hans")
