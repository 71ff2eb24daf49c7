"""What the browser tests and the screenshot script share: how to start Chromium, how to log in.

Only Debian's Chromium is used (never a downloaded browser), headless and without the
background services that would reach the network.
"""

import re
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Desktop tests run at 1,440 px: below 1,400 the navigation bar collapses behind its toggler.
VIEWPORT = {"width": 1440, "height": 900}


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def field(scope, label: str):
    """The form field whose label is exactly `label` (crispy adds a `*` to required ones).

    Playwright matches a regular expression against the label's raw text, with the
    template's whitespace around it, and a plain string matches any label containing it,
    hence the pattern. Checkboxes are left out: "Email" and "Phone" are also the labels of
    the marketing consent boxes.
    """
    labelled = scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))
    return labelled.and_(scope.locator(":not([type=checkbox]):not([type=radio])"))


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Log in through the real login form, as a user would, and land on the home page."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")
