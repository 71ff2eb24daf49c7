"""Screenshots of the main pages for README.md, taken by Debian's Chromium over demo data.

    python -m tests.browser.screenshots docs/screenshots

It builds a throwaway SQLite database (migrate + seed_demo), starts `manage.py runserver`
on a free port with DEBUG=1 (so static files are served from the source tree), logs in
as the demo users and saves PNGs with stable names. The server is always stopped and the
database removed at the end, even when something fails.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.browser.screenshots_round import setup_round, take_round_screenshots
from tests.browser.support import CHROMIUM, VIEWPORT, field, launch_chromium, log_in

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo"  # devtools/demo/customers.py: DEMO_PASSWORD
DEMO_CUSTOMERS = 120
NARROW_VIEWPORT = {"width": 390, "height": 844}

# Run in a Django shell on the demo database: a rep-owned customer with a Chinese name and
# several interactions, so the 360° page shows a real timeline and the rep's forms.
PICK_CUSTOMER = """
import json, re
from django.db.models import Count
from customers.models import Customer
han = re.compile(r"[\\u4e00-\\u9fff]")
candidates = (Customer.objects.filter(owner__username="rep")
              .annotate(n=Count("interactions")).filter(n__gte=3).order_by("-n", "pk"))
picked = next((c for c in candidates if han.search(c.name) and c.kind == "company"), None)
picked = picked or next(c for c in candidates if han.search(c.name))
print(json.dumps({"pk": picked.pk, "name": picked.name}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def wait_for_server(server: subprocess.Popen, url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.3)


def settle(page) -> None:
    """Wait until htmx panels have loaded and fonts are ready."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")


OVERFLOW_JS = """() => {
  const wide = (e) => e.scrollWidth > e.clientWidth + 1;
  const found = [];
  if (wide(document.documentElement)) found.push(["page", document.documentElement]);
  document.querySelectorAll(".table-responsive").forEach((e) => wide(e) && found.push(["table", e]));
  return found.map(([what, e]) => `${what} is ${e.scrollWidth - e.clientWidth}px wider than its ${e.clientWidth}px box`);
}"""


def take_screenshots(base_url: str, folder: Path, customer: dict, ids: dict) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved: list[Path] = []

    def shot(page, name: str, *, full_page: bool = False) -> None:
        settle(page)
        path = folder / name
        page.screenshot(path=path, full_page=full_page, animations="disabled")
        saved.append(path)
        print(f"  {path}")
        for problem in page.evaluate(OVERFLOW_JS):
            print(f"    layout: {problem} (scrolls sideways)")

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:

            def new_page(viewport=VIEWPORT):
                context = browser.new_context(
                    viewport=viewport,
                    locale="en-US",
                    base_url=base_url,
                    timezone_id="Asia/Shanghai",
                )
                context.set_default_timeout(15_000)
                return context.new_page()

            # A sales rep.
            page = new_page()
            page.goto("/accounts/login/")
            shot(page, "01-login.png")
            log_in(page, base_url, "rep", DEMO_PASSWORD)
            shot(page, "02-home.png")

            page.get_by_role("navigation", name="Main navigation").get_by_role(
                "link", name="Customers", exact=True
            ).click()
            shot(page, "03-customer-list.png", full_page=True)

            filters = page.locator("#filter-form")
            filters.get_by_role("checkbox", name="Customer", exact=True).check()
            field(filters, "Region").fill("Guangdong")
            filters.get_by_role("button", name="Filter").click()
            page.wait_for_url("**/customers/?*")
            shot(page, "04-customer-list-filtered.png", full_page=True)

            page.goto(f"/customers/{customer['pk']}/")
            shot(page, "05-customer-360.png", full_page=True)

            page.goto("/customers/new/")
            field(page, "Email").fill("not an email")
            field(page, "Phone").fill("call me maybe")
            page.get_by_role("button", name="Save").click()
            page.locator(".invalid-feedback").first.wait_for()
            shot(page, "06-customer-form-errors.png", full_page=True)

            page.get_by_role("navigation", name="Main navigation").get_by_role(
                "link", name="My tasks"
            ).click()
            shot(page, "07-my-tasks.png", full_page=True)

            page.goto("/")
            search = page.get_by_role("navigation", name="Main navigation").get_by_role("searchbox")
            search.press_sequentially("王", delay=30)
            page.locator("#search-suggestions a").first.wait_for()
            shot(page, "08-search-suggestions.png")
            search.press("Enter")
            page.wait_for_url("**/customers/search/?q=*")
            shot(page, "09-search-results.png", full_page=True)
            page.context.close()

            # The 360° page in Simplified Chinese, switched with the navbar's selector.
            page = new_page()
            log_in(page, base_url, "rep", DEMO_PASSWORD)
            page.goto(f"/customers/{customer['pk']}/")
            with page.expect_navigation():
                page.locator("select[name=language]").select_option("zh-hans")
            shot(page, "10-customer-360-zh-hans.png", full_page=True)
            page.context.close()

            # A manager, on a phone-sized window.
            page = new_page(NARROW_VIEWPORT)
            log_in(page, base_url, "manager", DEMO_PASSWORD)
            page.goto("/customers/")
            shot(page, "11-customer-list-narrow.png", full_page=True)
            page.goto(f"/customers/{customer['pk']}/")
            shot(page, "12-customer-360-narrow.png", full_page=True)
            page.context.close()

            # Sales: the board as a rep, the forecast and the orders as a manager.
            page = new_page()
            log_in(page, base_url, "rep", DEMO_PASSWORD)
            page.goto("/sales/board/")
            shot(page, "13-pipeline-board.png")
            page.locator(".deal-card a").first.click()
            shot(page, "14-deal.png", full_page=True)
            page.context.close()
            page = new_page()
            log_in(page, base_url, "manager", DEMO_PASSWORD)
            page.goto("/sales/forecast/?months=12")
            shot(page, "15-forecast.png", full_page=True)
            page.goto("/sales/orders/")
            shot(page, "16-orders.png")
            page.context.close()

            # The pages changed in the second round, in English and Chinese, wide and narrow.
            take_round_screenshots(
                browser, base_url, {**ids, "customer": customer["pk"]}, shot, log_in, DEMO_PASSWORD
            )
        finally:
            browser.close()
    return saved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write the PNGs")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    folder = args.folder if args.folder.is_absolute() else Path.cwd() / args.folder
    folder.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="crm-screenshots-") as tmp:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        env.update(
            DATABASE_URL=f"sqlite:///{tmp}/crm.sqlite3",
            DEBUG="1",
            CRM_DEVTOOLS="1",  # seed_demo
            CRM_REQUIRE_2FA_ROLES="",  # the demo's logins, as make demo serves them
            SECRET_KEY="screenshots-only-secret-key",
            TIME_ZONE="Asia/Shanghai",
            PYTHONUNBUFFERED="1",
        )
        print("Preparing the demo database…")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "seed_demo", "--customers", str(DEMO_CUSTOMERS))
        customer = json.loads(manage(env, "shell", "-c", PICK_CUSTOMER).strip().splitlines()[-1])
        ids = setup_round(manage, env)

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "runserver.log"
        with log.open("w") as log_file:
            server = subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_server(server, base_url, log)
            print(f"Taking screenshots from {base_url} (customer #{customer['pk']}):")
            saved = take_screenshots(base_url, folder, customer, ids)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    print(f"{len(saved)} screenshots in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
