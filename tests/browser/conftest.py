"""Browser fixtures: one headless Debian Chromium for the browser tests, a fresh context per test.

The tests run against pytest-django's `live_server` (a real HTTP server in a thread, on
the test database), so they use `transactional_db`; `django_db_serialized_rollback`
restores the roles and permissions the data migrations created, which the flush after
each transactional test would otherwise remove.
"""

import os
import re
from pathlib import Path

import pytest
from django.db import connections
from django.urls import resolve

from tests.browser.support import CHROMIUM, VIEWPORT, launch_chromium, log_in
from tests.conftest import missing_service

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "pw-for-tests-1"  # tests/factories.py: UserFactory.password


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the page fixture knows about failures."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests of this package.

    Package-scoped rather than session-scoped on purpose: while Playwright's sync API is
    running, the main thread has a running asyncio loop, so Django's ORM refuses to run
    there (SynchronousOnlyOperation) and asgiref's async_to_sync fails. The documented
    workaround, DJANGO_ALLOW_ASYNC_UNSAFE, is set only while the browser runs, and the
    browser is stopped after the last browser test, so the rest of the suite runs as usual.
    """
    if not CHROMIUM.exists():
        missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    test_connections = {alias: connections[alias] for alias in connections}
    playwright = sync_playwright().start()
    # Django keeps database connections per thread, but per asyncio context while a loop
    # runs in the thread: without this the tests would get new connection objects, which
    # lack the test database's serialized contents (so no serialized rollback) and, with
    # SQLite, are not the live server's shared in-memory connection.
    for alias, connection in test_connections.items():
        connections[alias] = connection
    try:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _static_files_from_finders(settings):
    """Link the unhashed static files, which the live server serves from the finders.

    With DEBUG off the settings use WhiteNoise's manifest storage, whose hashed names exist
    only in STATIC_ROOT; pytest-django's live server answers /static/ itself, from the
    finders, so the hashed names would be 404s and the pages would have no CSS or htmx.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def base_url(live_server, django_db_serialized_rollback):
    """The live server's address (with the roles restored in its database).

    Resolving a URL imports every app's views once; doing it here keeps that out of the
    first page load, which on a busy machine could exceed the browser's timeout.
    """
    resolve("/")
    return live_server.url


def page_url(message) -> str:
    location = message.location or {}
    return location.get("url") or "a page"


class Problems:
    """What went wrong in a page besides the test's own assertions: JS errors, missing assets."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page):
        page.on("pageerror", lambda error: self.items.append(f"JavaScript error: {error}"))
        page.on("response", self._response)
        page.on("console", self._console)

    def _console(self, message):
        # Chromium reports what the Content Security Policy blocked (an inline script, style
        # or handler, an image from another site) as a console error.
        if "Content Security Policy" in message.text:
            self.items.append(f"{page_url(message)}: {message.text}")

    def _response(self, response):
        if response.status >= 400 and "/static/" in response.url:
            self.items.append(f"{response.status} for {response.url}")


@pytest.fixture
def new_page(browser, base_url, request):
    """A factory of pages, each in its own browser context (its own cookies): `new_page()`.

    On failure every page is saved to test-artifacts/<test>-<n>.png.
    """
    contexts, pages, problems = [], [], Problems()

    def make():
        context = browser.new_context(viewport=VIEWPORT, locale="en-US", base_url=base_url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        pages.append(page)
        return page

    yield make

    failed = any(
        getattr(request.node, f"report_{when}", None) is not None
        and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        for number, page in enumerate(pages, start=1):
            if page.url == "about:blank":
                continue
            try:
                page.screenshot(path=ARTIFACTS / f"{name}-{number}.png", full_page=True)
            except Exception as error:  # a screenshot must not hide the failure
                print(f"could not save a screenshot of page {number}: {error}")
    for context in contexts:
        context.close()
    if not failed:
        assert not problems.items, "problems in the browser:\n" + "\n".join(problems.items)


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context (1440x900), not logged in."""
    return new_page()


@pytest.fixture
def login(base_url):
    """`login(page, user)`: log in through the login form; the page ends on the home page."""

    def login_as(page, user, password=PASSWORD):
        log_in(page, base_url, user.get_username(), password)
        return page

    return login_as
