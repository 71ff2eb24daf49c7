"""Every page of the project, every query parameter, hostile values: never a 5xx.

The URL patterns come from walking `crm.urls`; each is either in PAGES (with the objects
its path needs) or in EXCLUDED with a reason, so a new page cannot slip out of the sweep.
A page's parameters are found automatically (the fields of its filter sets, the inputs of
its GET forms and the query keys of its links to itself, read from a first response) and
completed by READ_BY_VIEWS, the parameters views read directly.

The role that sees the page (or an anonymous visitor, for public pages) gets every hostile
value in every parameter; every other role (and anonymous) gets one hostile value in all the
parameters at once. Overflowing ids and NUL bytes fail only on PostgreSQL: run this file there
too (DATABASE_URL=postgres://...).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import django_filters
import pytest
from django.core.files.base import ContentFile
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from core.api_tokens import api_token_create
from core.attachments import attachment_add
from core.events import TEST_EVENT, event_record
from core.models import ExportFile
from core.notifications import notify
from customers.calendar import feed_url
from customers.import_services import customer_import_create
from customers.models import SavedView
from integrations.mail.ingest import ingest_raw
from integrations.models import (
    EmailTemplate,
    InboundEmail,
    Mailbox,
    WebhookDelivery,
    WebhookEndpoint,
)
from marketing.consent import preferences_token, unsubscribe_token
from marketing.lead_form_link import lead_confirm_token, lead_form_token
from marketing.models import LeadSubmission
from marketing.tracking import CLICK_LINK, OPEN_LINK
from sales.import_services import order_import_create
from sales.services import quote_create
from service.links import csat_token, follow_token
from service.models import Macro
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    ContactFactory,
    CustomerFactory,
    CustomerValueFactory,
    DealFactory,
    KnowledgeArticleFactory,
    OrderFactory,
    OrderLineFactory,
    SegmentRunFactory,
    TaskFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = [
    "²",  # a digit to str.isdigit(), not to int()
    "Ⅻ",  # a Roman numeral
    "١٢",  # Arabic-Indic digits, which int() reads as 12
    "９",  # a fullwidth digit
    "1e5",
    "-1",
    str(10**30),  # fits Python, overflows every database integer
    "2026-02-30",
    "a\x00b",  # PostgreSQL refuses NUL in text
    "x" * 3000,
]
COMMON = ("page", "sort", "q")
OVERFLOW_ID = 2**64  # a path id no bigint holds

# Parameters views read themselves (not from a form or a link on the page).
READ_BY_VIEWS = {
    "home": (),
    "customers:customer-list": ("owner", "tags", "segment", "ltv_min", "alive_max"),
    "customers:customer-export": ("owner", "tags", "stage", "segment", "ltv_max"),
    "customers:customer-merge": ("other", "duplicate"),
    "customers:duplicate-dismiss": ("first", "second", "page"),
    "customers:list-columns": ("columns", "reset", "next_query"),
    "customers:customer-detail": ("kind", "before"),
    "customers:customer-timeline": ("kind", "before"),
    "customers:my-tasks": ("show", "assignee", "overdue"),
    "customers:customer-import-preview": ("show",),
    "sales:board": ("pipeline", "owner"),
    "sales:deal-list": (
        *("stage", "owner", "close_month", "closed_month", "stale", "amount_min", "amount_max"),
    ),
    "sales:deal-export": ("stage", "owner", "close_month", "amount_min", "amount_max"),
    "sales:deal-create": ("customer",),
    "sales:order-list": ("customer", "date_from", "date_to", "coupon", "channel"),
    "sales:order-create": ("customer",),
    "sales:forecast": ("start", "months"),
    "sales:home-team-panel": ("month",),
    "sales:quotas": ("month",),
    "service:ticket-list": ("view", "customer", "team", "assignee", "status"),
    "service:ticket-create": ("customer",),
    "service:ticket-macros": ("macro_q",),
    "service:ticket-macro-apply": ("macro",),
    "service:macro-list": ("q",),
    "knowledge:article-list": ("category", "published"),
    "help:home": ("category",),
    "help:article": ("from",),
    "help:suggest": ("subject", "description"),
    "analytics:segments": ("export",),
    "analytics:value": ("export",),
    "analytics:pipeline": ("export", "period", "from", "to"),
    "analytics:service": ("export", "period", "from", "to"),
    "analytics:run-status": ("poll",),
    "marketing:campaign-list": ("status", "channel"),
    "marketing:channel-segment-matrix": ("export", "sent_from", "sent_to"),
    "marketing:campaign-report": ("export",),
    "marketing:campaign-preview": ("customer", "q"),
    "marketing:campaign-send-progress": ("poll",),
    "marketing:campaign-recipients": ("status",),
    "marketing:audience-preview": ("segments", "channel", "tiers"),
    "mail:original": ("images",),
    "mail:compose": ("customer", "deal", "ticket", "template"),
    "mail:unfiled-file": ("customer",),
}

# url name -> the fixture objects its path arguments name (a key of `data`).
PAGES = {
    "home": {},
    "healthz": {},
    "favicon": {},
    "readyz": {},
    "set_language": {},
    "customers:customer-list": {},
    "customers:customer-create": {},
    "customers:customer-export": {},
    "customers:customer-import": {},
    "customers:customer-import-template": {},
    "customers:customer-import-preview": {"pk": "customer_import"},
    "customers:customer-import-progress": {"pk": "customer_import"},
    "customers:customer-bulk": {},
    "customers:saved-view-create": {},
    "customers:saved-view-delete": {"pk": "saved_view"},
    "customers:search": {},
    "customers:duplicate-list": {},
    "customers:customer-import-columns": {},
    "customers:customer-import-rejected": {"pk": "customer_import"},
    "customers:list-columns": {},
    "customers:duplicate-dismiss": {},
    "customers:duplicate-refresh": {},
    "customers:my-tasks": {},
    "customers:task-toggle": {"pk": "task"},
    "customers:task-badge": {},
    "customers:task-snooze": {"pk": "task"},
    "customers:calendar": {},
    "customers:calendar-feed": {"token": "calendar_token"},
    "customers:meeting-create": {"pk": "customer"},
    "notifications:list": {},
    "notifications:badge": {},
    "notifications:read-all": {},
    "notifications:open": {"pk": "notification"},
    "notifications:read": {"pk": "notification"},
    "notifications:preferences": {},
    "customers:home-tasks-panel": {},
    "customers:home-customers-panel": {},
    "customers:customer-detail": {"pk": "customer"},
    "customers:customer-panels": {"pk": "customer"},
    "customers:customer-timeline": {"pk": "customer"},
    "customers:customer-update": {"pk": "customer"},
    "customers:customer-delete": {"pk": "customer"},
    "customers:customer-merge": {"pk": "customer"},
    "customers:customer-erase": {"pk": "customer"},
    "customers:customer-data": {"pk": "customer"},
    "customers:interaction-create": {"pk": "customer"},
    "customers:task-create": {"pk": "customer"},
    "customers:contact-create": {"pk": "customer"},
    "customers:contact-update": {"pk": "customer", "contact_pk": "contact"},
    "customers:contact-delete": {"pk": "customer", "contact_pk": "contact"},
    "sales:forecast": {},
    "sales:deal-list": {},
    "sales:deal-create": {},
    "sales:deal-export": {},
    "sales:deal-detail": {"pk": "deal"},
    "sales:deal-update": {"pk": "deal"},
    "sales:deal-win": {"pk": "deal"},
    "sales:deal-lose": {"pk": "deal"},
    "sales:deal-move": {"pk": "deal"},
    "sales:board": {},
    "sales:customer-deals-panel": {"pk": "customer"},
    "sales:home-pipeline-panel": {},
    "sales:home-team-panel": {},
    "sales:quotas": {},
    "sales:deal-next-step": {"pk": "deal"},
    "sales:deal-activity": {"pk": "deal"},
    "sales:quote-create": {"deal_pk": "deal"},
    "sales:quote-detail": {"pk": "quote"},
    "sales:quote-update": {"pk": "quote"},
    "sales:quote-status": {"pk": "quote"},
    "sales:quote-print": {"pk": "quote"},
    "sales:order-list": {},
    "sales:order-create": {},
    "sales:order-detail": {"pk": "order"},
    "sales:customer-orders-panel": {"customer_pk": "customer"},
    "sales:order-import": {},
    "sales:order-import-preview": {"pk": "order_import"},
    "service:ticket-list": {},
    "service:ticket-create": {},
    "service:ticket-bulk": {},
    "service:ticket-detail": {"pk": "ticket"},
    "service:ticket-update": {"pk": "ticket"},
    "service:ticket-reply": {"pk": "ticket"},
    "service:ticket-draft": {"pk": "ticket"},
    "service:ticket-macros": {"pk": "ticket"},
    "service:ticket-macro-apply": {"pk": "ticket"},
    "service:macro-list": {},
    "service:macro-create": {},
    "service:macro-edit": {"pk": "macro"},
    "service:macro-delete": {"pk": "macro"},
    "service:ticket-requester": {"pk": "requester_ticket"},
    "service:customer-tickets-panel": {"pk": "customer"},
    "service:ticket-take": {"pk": "ticket"},
    "service:ticket-merge": {"pk": "ticket"},
    "service:home-queue-panel": {},
    "knowledge:article-list": {},
    "knowledge:article-create": {},
    "knowledge:article-preview": {},
    "knowledge:article-detail": {"pk": "article"},
    "knowledge:article-edit": {"pk": "article"},
    "knowledge:article-delete": {"pk": "article"},
    "knowledge:translation-edit": {"pk": "article", "language": "translation_language"},
    "knowledge:translation-delete": {"pk": "article", "language": "translation_language"},
    "help:home": {},
    "help:article": {"pk": "article"},
    "help:vote": {"pk": "article"},
    "help:suggest": {},
    "help:submit": {},
    "help:submitted": {},
    "help:ticket": {"token": "follow_token"},
    "help:csat": {"token": "csat_token"},
    "analytics:segments": {},
    "analytics:value": {},
    "analytics:cannot-lose-tasks": {},
    "analytics:pipeline": {},
    "analytics:service": {},
    "analytics:customer-value-panel": {"pk": "customer"},
    "analytics:recompute": {},
    "analytics:run-status": {"pk": "run"},
    "analytics:run-cancel": {"pk": "run"},
    "marketing:campaign-list": {},
    "marketing:campaign-create": {},
    "marketing:audience-preview": {},
    "marketing:campaign-detail": {"pk": "campaign"},
    "marketing:campaign-update": {"pk": "campaign"},
    "marketing:campaign-audience": {"pk": "campaign"},
    "marketing:campaign-report": {"pk": "campaign"},
    "marketing:campaign-subject-test": {"pk": "campaign"},
    "marketing:channel-segment-matrix": {},
    "marketing:campaign-preview": {"pk": "campaign"},
    "marketing:campaign-test-send": {"pk": "campaign"},
    "marketing:campaign-send": {"pk": "campaign"},
    "marketing:campaign-send-progress": {"pk": "campaign"},
    "marketing:campaign-recipients": {"pk": "campaign"},
    "marketing:recipient-outcome-bulk": {"pk": "campaign"},
    "marketing:recipient-outcome": {"pk": "recipient"},
    "marketing:campaign-mail-export": {"pk": "campaign"},
    "marketing:customer-loyalty-panel": {"pk": "customer"},
    "marketing:loyalty-change": {"pk": "customer"},
    "public-marketing:unsubscribe": {"token": "unsubscribe_token"},
    "public-marketing:preferences": {"token": "preferences_token"},
    "public-marketing:lead-form": {"token": "lead_token"},
    "public-marketing:track-open": {"token": "open_token"},
    "public-marketing:track-click": {"token": "click_token"},
    "ops:jobs": {},
    "integrations:webhook-list": {},
    "integrations:webhook-create": {},
    "integrations:webhook-detail": {"pk": "webhook"},
    "integrations:webhook-update": {"pk": "webhook"},
    "integrations:webhook-delete": {"pk": "webhook"},
    "integrations:webhook-rotate": {"pk": "webhook"},
    "integrations:webhook-enable": {"pk": "webhook"},
    "integrations:webhook-test": {"pk": "webhook"},
    "integrations:webhook-redeliver": {"pk": "webhook_delivery"},
    "public-marketing:lead-confirm": {"token": "lead_confirm_token"},
    "core:exports": {},
    "core:export-download": {"pk": "export_file"},
    "two-factor": {},
    "two-factor-verify": {},
    "api-tokens": {},
    "profile": {},
    "api-token-revoke": {"pk": "api_token"},
    "mail:original": {"pk": "inbound_email"},
    "mail:unfiled-list": {},
    "mail:unfiled-badge": {},
    "mail:unfiled-file": {"pk": "unfiled_email"},
    "mail:unfiled-discard": {"pk": "unfiled_email"},
    "mail:compose": {},
    "mail:template-list": {},
    "mail:template-create": {},
    "mail:template-edit": {"pk": "email_template"},
    "mail:template-delete": {"pk": "email_template"},
    "attachment-download": {"pk": "attachment"},
    "attachment-delete": {"pk": "attachment"},
    "attachment-upload": {"label": "attachment_owner_label", "owner_pk": "deal"},
}

# Patterns left out of the sweep, by route prefix, and why.
EXCLUDED = {
    "admin/": "Django's admin: its own code, its own tests; staff only",
    "accounts/login/": "Django's authentication views (login, password change and reset)",
    "accounts/logout/": "Django's authentication views",
    "accounts/password_": "Django's authentication views (password change and reset)",
    "accounts/reset/": "Django's authentication views (password reset confirmation)",
    "api/v1/": "the REST API answers JSON: its hostile queries and bodies are in"
    " tests/*/test_api_*.py, and schemathesis sends every operation generated input",
}

PERSONAS = ["manager", "rep", "agent", "marketer", "nobody"]


@dataclass
class Route:
    name: str
    route: str
    public: bool = False
    params: set[str] = field(default_factory=set)


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name


def all_routes() -> list[tuple[str, str]]:
    return list(_walk(get_resolver()))


def excluded_reason(route: str) -> str | None:
    return next((why for prefix, why in EXCLUDED.items() if route.startswith(prefix)), None)


def swept_names() -> list[str]:
    return sorted(
        {name for route, name in all_routes() if name in PAGES and not excluded_reason(route)}
    )


def test_every_url_pattern_is_swept_or_excluded_with_a_reason():
    uncovered = [
        (route, name)
        for route, name in all_routes()
        if name not in PAGES and not excluded_reason(route)
    ]
    assert not uncovered, f"add these patterns to PAGES or EXCLUDED: {uncovered}"
    stale = set(PAGES) - {name for _route, name in all_routes()}
    assert not stale, f"PAGES names patterns that no longer exist: {stale}"


class _ParamFinder(HTMLParser):
    """Names of the inputs of GET forms and the query keys of links to `path` itself."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.names: set[str] = set()
        self._in_get_form = False

    def _same_page(self, url: str | None) -> bool:
        return not url or urlsplit(url).path in ("", self.path)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self._in_get_form = method == "get" and self._same_page(attrs.get("action"))
        elif tag in ("input", "select", "textarea") and self._in_get_form and attrs.get("name"):
            self.names.add(attrs["name"])
        for key in ("href", "hx-get"):
            url = attrs.get(key)
            if url and "?" in url and self._same_page(url.split("?")[0]):
                self.names.update(name for name, _value in parse_qsl(urlsplit(url).query))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_get_form = False


def discovered_params(response, path: str) -> set[str]:
    names: set[str] = set()
    for context in response.context or []:
        for value in context.flatten().values() if hasattr(context, "flatten") else []:
            if isinstance(value, django_filters.FilterSet):
                names.update(value.form.fields)
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        finder = _ParamFinder(path)
        finder.feed(response.content.decode())
        names.update(finder.names)
    names.discard("csrfmiddlewaretoken")
    return names


@pytest.fixture
def data(rep, agent, marketer, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the inbound email's raw file
    customer = CustomerFactory(owner=rep, kind="company", name="Acme")
    contact = ContactFactory(customer=customer)
    task = TaskFactory(customer=customer, assignee=rep)
    deal = DealFactory(owner=rep, customer=customer, amount=Decimal("100"))
    quote = quote_create(
        deal=deal,
        valid_until=timezone.localdate() + timedelta(days=30),
        created_by=rep,
        lines=[
            {
                "description": "Widget",
                "quantity": Decimal(1),
                "unit_price": Decimal("100.00"),
                "discount_percent": Decimal(0),
                "tax_rate": Decimal(0),
            }
        ],
    )
    order = OrderFactory(customer=customer)
    OrderLineFactory(order=order)
    ticket = TicketFactory(customer=customer, assignee=agent)
    article = KnowledgeArticleFactory(is_published=True)
    run = SegmentRunFactory()
    CustomerValueFactory(run=run, customer=customer)
    campaign = CampaignFactory(owner=marketer)
    recipient = CampaignRecipientFactory(campaign=campaign, customer=customer)
    webhook = WebhookEndpoint.objects.create(owner=manager, url="https://example.com/hook")
    objects = {
        "customer": customer,
        "contact": contact,
        "task": task,
        "deal": deal,
        "quote": quote,
        "order": order,
        "ticket": ticket,
        "requester_ticket": TicketFactory(
            customer=None, requester_name="Zhao", requester_email="zhao@example.net"
        ),
        "article": article,
        "macro": Macro.objects.create(name="Thanks", body="Hi {{ customer.name }}"),
        "run": run,
        "campaign": campaign,
        "recipient": recipient,
        "saved_view": SavedView.objects.create(user=manager, name="Mine", query="mine=true"),
        "customer_import": customer_import_create(
            user=manager, file_name="c.csv", text="name\nAcme two\n", row_count=1
        ),
        "api_token": api_token_create(
            user=manager, name="shop", scope="read", expires_in_days=None
        )[0],
        "export_file": ExportFile.objects.create(
            owner=manager, source="customers", filename="customers.csv"
        ),  # fmt: skip
        "webhook": webhook,
        "webhook_delivery": WebhookDelivery.objects.create(
            endpoint=webhook, event=event_record(type=TEST_EVENT, target=webhook), object_key="x"
        ),
        "inbound_email": _inbound_email(),
        "email_template": EmailTemplate.objects.create(
            owner=manager, name="Intro", subject="Hello {{ first_name }}", body="Hi"
        ),
        "unfiled_email": ingest_raw(
            mailbox=Mailbox.objects.create(
                name="sales", purpose="sales", address="sales@crm.test", host="x", username="x"
            ),
            raw=b"From: stranger@example.org\r\nTo: rep@example.com, sales@crm.test\r\n"
            b"Subject: Hello\r\nMessage-ID: <hostile@example.org>\r\n\r\nHi\r\n",
        )[0],
        "order_import": order_import_create(
            user=manager,
            file_name="o.csv",
            text="customer_external_id,ordered_at,total\nC1,2026-01-01,10\n",
            row_count=1,
        ),
    }
    objects["notification"] = notify(recipient=rep, kind="assigned", message="Hi", url="/")
    objects["attachment"] = attachment_add(owner=deal, content=b"%PDF-1.4\n", name="q.pdf")
    kwargs = {key: value.pk for key, value in objects.items()}
    kwargs |= {
        "attachment_owner_label": "sales.deal",
        "translation_language": "zh-hans",
        "calendar_token": feed_url(rep).rsplit("/", 1)[1].removesuffix(".ics"),
        "follow_token": follow_token(ticket),
        "csat_token": csat_token(ticket),
        "unsubscribe_token": unsubscribe_token(customer_id=customer.pk, channel="email"),
        "preferences_token": preferences_token(customer_id=customer.pk),
        "lead_token": lead_form_token(campaign),
        "open_token": OPEN_LINK.make(recipient.pk),
        "click_token": CLICK_LINK.make([recipient.pk, "https://shop.example/sale?a=1"]),
        "lead_confirm_token": lead_confirm_token(
            LeadSubmission.objects.create(campaign=campaign, name="Li", email="li@example.com")
        ),
    }
    return kwargs


def _inbound_email() -> InboundEmail:
    mailbox = Mailbox.objects.create(
        name="support",
        purpose=Mailbox.Purpose.SUPPORT,
        address="support@example.com",
        host="127.0.0.1",
        username="support",
        password_env="CRM_TEST_IMAP_PASSWORD",
    )
    inbound = InboundEmail(mailbox=mailbox, message_key="<hostile@example.com>", status="ignored")
    raw = b"Subject: Hi\r\nContent-Type: text/html\r\n\r\n<p>Hi</p><img src=https://x.example/a>"
    inbound.raw.save("message.eml", ContentFile(raw), save=False)
    inbound.save()
    return inbound


@pytest.fixture
def clients(rep, agent, marketer, manager, nobody) -> dict[str, Client]:
    clients = {"anonymous": Client()}
    for user in (rep, agent, marketer, manager, nobody):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    return clients


def _get(client: Client, url: str, params: dict, failures: list, who: str):
    """GET and read the whole body (a streamed CSV fails only while it is read)."""
    try:
        response = client.get(url, params)
        if isinstance(response, StreamingHttpResponse):
            b"".join(response.streaming_content)
    except Exception as error:  # noqa: BLE001 - every failure is reported together
        failures.append((who, url, params_repr(params), repr(error)[:300]))
        return None
    if response.status_code >= 500:
        failures.append((who, url, params_repr(params), response.status_code))
    return response


def params_repr(params: dict) -> str:
    return ", ".join(f"{k}={v[:12]!r}" for k, v in params.items())


def sweep_page(name: str, data: dict, clients: dict[str, Client], failures: list) -> None:
    kwargs = {key: data[obj] for key, obj in PAGES[name].items()}
    url = reverse(name, kwargs=kwargs)
    # Who sees the page: anonymous visitors for public pages, else the first role that may.
    seer, page, status = "manager", None, {}
    for who in ["anonymous", *PERSONAS]:
        response = _get(clients[who], url, {}, failures, who)
        status[who] = response.status_code if response is not None else 500
        if status[who] == 200:
            seer, page = who, response
            break
    params = set(COMMON) | set(READ_BY_VIEWS.get(name, ()))
    if page is not None:
        params |= discovered_params(page, urlsplit(url).path)
    # A POST-only view: the manager, who may do everything, gets 405 before any parsing.
    post_only = status.get("manager") == 405
    for param in sorted(params) if not post_only else []:
        for value in HOSTILE:
            _get(clients[seer], url, {param: value}, failures, seer)
    for index, who in enumerate(["anonymous", *PERSONAS]):
        if who != seer:
            value = HOSTILE[index % len(HOSTILE)]
            _get(clients[who], url, dict.fromkeys(params, value), failures, who)
    if any(isinstance(value, int) for value in kwargs.values()):
        overflow = {k: OVERFLOW_ID if isinstance(v, int) else v for k, v in kwargs.items()}
        _get(clients[seer], reverse(name, kwargs=overflow), {}, failures, seer)


def test_hostile_query_parameters_never_give_a_server_error(data, clients) -> None:
    """One test for every page: the fixture data and the logins are made once."""
    failures: list = []
    for name in swept_names():
        sweep_page(name, data, clients, failures)
    assert not failures, "\n".join(map(str, failures))
