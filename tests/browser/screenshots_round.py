"""The pages changed in the second round, shot at 1,440 and 390 px in English and Chinese.

tests/browser/screenshots.py calls `take_round_screenshots` after its own 16 shots, on the
same demo server. Names are stable: `NN-page-LANGUAGE-WIDTH.png` (17-team-view-en-1440.png).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

# Run in a Django shell on the demo database after seed_demo: the objects the demo does not
# create (a quote, company details, notifications, a possible duplicate, macros, a draft email
# campaign) and the ids of those the pages need. Prints one line of JSON.
SETUP = """
import json
from datetime import timedelta
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.utils import timezone
from core.notifications import notify
from customers.duplicate_refresh import duplicates_refresh
from customers.models import Customer
from marketing.models import Campaign
from sales.models import Deal
from sales.services import quote_create
from sales.team_models import CompanyDetails
from service.knowledge_models import ArticleTranslation
from service.models import Macro, Ticket

users = {user.username: user for user in get_user_model().objects.all()}
today = timezone.localdate()
# A deal in a currency with a rate, so its page shows the amount in both currencies.
deal = (Deal.objects.filter(status="open", currency="EUR").order_by("pk").first()
        or Deal.objects.filter(status="open").order_by("pk").first())
line = {"quantity": Decimal("3"), "unit_price": Decimal("1250.00"),
        "discount_percent": Decimal("5"), "tax_rate": Decimal("13")}
quote = quote_create(deal=deal, valid_until=today + timedelta(days=30), created_by=deal.owner,
                     lines=[{**line, "description": "CRM licence, 12 months / 年度许可"},
                            {**line, "description": "On-site training", "quantity": Decimal("1")}],
                     notes="Prices include installation.")
if not CompanyDetails.objects.exists():
    CompanyDetails.objects.create(
        name="Demo Trading Co., Ltd. 演示贸易有限公司", address="88 Century Avenue\\nShanghai 200120",
        tax_id="91310000MA1FL0000X", email="sales@example.com", phone="+86 21 5555 0100",
        website="www.example.com")
for user in (users["manager"], users["rep"]):
    notify(recipient=user, kind="assigned", actor=users["admin"], url=deal.get_absolute_url(),
           message="%(user)s assigned you the deal %(title)s",
           params={"user": "admin", "title": deal.title})
    notify(recipient=user, kind="mention", actor=users["agent"], url="/service/tickets/",
           message="%(name)s mentioned you in a note on ticket %(ticket)s",
           params={"name": "agent", "ticket": "T-1042"})
    notify(recipient=user, kind="task_due", url="/customers/tasks/",
           message="Overdue: %(title)s (%(customer)s)",
           params={"title": "Send the offer", "customer": deal.customer.name})
kept = Customer.objects.filter(owner__username="rep").exclude(email="").order_by("pk").first()
twin = Customer.objects.create(name=kept.name, email=kept.email, kind=kept.kind, city="Hangzhou",
                               owner=users["rep2"], stage=kept.stage)
duplicates_refresh()  # the list shows the stored pairs
for name, body in (("Refund for damage", "Sorry your order arrived damaged: we refund it today."),
                   ("Password reset", "Open the link we sent to reset your password.")):
    Macro.objects.get_or_create(name=name, defaults={"body": body, "owner": None})
ticket = Ticket.objects.filter(assignee__username="agent", status="open").order_by("pk").first()
translation = ArticleTranslation.objects.filter(language="zh-hans", article__is_published=True)
translation = translation.order_by("article_id").first()
campaign = Campaign.objects.filter(channel="email").order_by("pk").first()
print(json.dumps({"deal": deal.pk, "quote": quote.pk, "kept": kept.pk, "twin": twin.pk,
                  "ticket": ticket.pk, "article": translation.article_id,
                  "campaign": campaign.pk}))
"""

# A customer file whose headers differ from the import layout, so the import asks for them.
IMPORT_CSV = (
    "Company,E-mail address,Tel,City,Notes\n"
    "深圳华强电子有限公司,info@huaqiang.example,+86 755 8888 0000,Shenzhen,met at the fair\n"
    "Acme Ltd,hello@acme.example,+44 20 7946 0000,London,\n"
).encode()

LANGUAGES = ("en", "zh-hans")
WIDTHS = (1440, 390)


@dataclass(frozen=True)
class Shot:
    number: int
    name: str
    persona: str  # a demo login, or "" for a visitor
    url: str  # formatted with the ids SETUP printed and the customer screenshots.py picked
    act: Callable | None = None  # what to do on the page before the picture
    full_page: bool = True


def open_column_chooser(page) -> None:
    page.locator("#columns-toggle").click()
    page.locator("#columns-form").wait_for()


def upload_customer_file(page) -> None:
    page.locator("main input[type=file]").set_input_files(
        {"name": "trade-fair-leads.csv", "mimeType": "text/csv", "buffer": IMPORT_CSV}
    )
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/customers/import/columns/")


def search_macros(page) -> None:
    page.locator("#macro-search").fill("re")
    page.locator("#macro-results .list-group-item").first.wait_for()


def open_notification_bell(page) -> None:
    page.locator("#notification-bell .notification-count").wait_for()


SHOTS = [
    Shot(17, "team-view", "manager", "/"),
    Shot(18, "quotas", "manager", "/sales/quotas/"),
    Shot(19, "customer-360-timeline", "manager", "/customers/{customer}/"),
    Shot(20, "notification-bell", "manager", "/", open_notification_bell, full_page=False),
    Shot(21, "notifications", "manager", "/notifications/"),
    Shot(22, "notification-preferences", "manager", "/notifications/preferences/"),
    Shot(23, "possible-duplicates", "manager", "/customers/duplicates/"),
    Shot(24, "merge-side-by-side", "manager", "/customers/{kept}/merge/?duplicate={twin}"),
    Shot(25, "customer-list-columns", "manager", "/customers/", open_column_chooser, False),
    Shot(26, "import-column-mapping", "manager", "/customers/import/", upload_customer_file),
    Shot(27, "board-converted", "manager", "/sales/board/", full_page=False),
    Shot(28, "forecast-converted", "manager", "/sales/forecast/?months=12"),
    Shot(29, "my-tasks", "rep", "/customers/tasks/"),
    Shot(30, "calendar", "rep", "/customers/calendar/"),
    Shot(31, "meeting-form", "rep", "/customers/{customer}/meetings/new/"),
    Shot(32, "deal-two-currencies", "manager", "/sales/deals/{deal}/"),
    Shot(33, "quote-print", "manager", "/sales/quotes/{quote}/print/"),
    Shot(34, "ticket-reply-macros", "agent", "/service/tickets/{ticket}/", search_macros),
    Shot(35, "macro-list", "agent", "/service/macros/"),
    Shot(36, "kb-translation-editor", "manager", "/knowledge/{article}/translations/zh-hans/"),
    Shot(37, "help-article", "", "/help/articles/{article}/"),
    Shot(38, "campaign-subject-test", "manager", "/marketing/campaigns/{campaign}/subject-test/"),
    Shot(39, "my-profile", "rep", "/accounts/profile/"),
]


def setup_round(manage, env: dict) -> dict:
    """Create what the demo lacks; the ids the shots' URLs need."""
    return json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])


def take_round_screenshots(browser, base_url: str, ids: dict, shot, log_in, password) -> None:
    """Every Shot, per language and width, one logged-in browser context per persona."""
    personas = list(dict.fromkeys(s.persona for s in SHOTS))
    for language in LANGUAGES:
        for width in WIDTHS:
            for persona in personas:
                context = browser.new_context(
                    viewport={"width": width, "height": 900 if width > 600 else 844},
                    locale="en-US",
                    base_url=base_url,
                    timezone_id="Asia/Shanghai",
                )
                context.set_default_timeout(15_000)
                page = context.new_page()
                if persona:
                    log_in(page, base_url, persona, password)
                context.add_cookies(
                    [{"name": "django_language", "value": language, "url": base_url}]
                )
                for item in (s for s in SHOTS if s.persona == persona):
                    page.goto(item.url.format(**ids))
                    if item.act:
                        item.act(page)
                    name = f"{item.number}-{item.name}-{language}-{width}.png"
                    shot(page, name, full_page=item.full_page)
                context.close()
