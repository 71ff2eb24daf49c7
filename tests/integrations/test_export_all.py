"""export_all writes every table users created, with a manifest; the data comes back through
the importers (customers, orders) and, for every table, through import_all."""

import csv
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from core.models import ExchangeRate, NotificationPreference, UserProfile
from customers.csv_format import COLUMNS as CUSTOMER_COLUMNS
from customers.import_services import customer_import_apply, customer_import_create
from customers.models import (
    Customer,
    CustomerImport,
    CustomerMerge,
    DuplicateDismissal,
    SavedView,
    Tag,
)
from integrations.exporting import CUSTOMERS_IMPORT_FILE, ORDERS_IMPORT_FILE, sha256_of
from integrations.models import EmailTemplate
from integrations.restoring import RestoreError, import_all
from integrations.tables import (
    DERIVED,
    EXPORTED,
    FRAMEWORK,
    columns_of,
    derived_models,
    exported_models,
    label_of,
)
from marketing.models import LoyaltyAccount, LoyaltyEntry
from marketing.subject_test_models import SubjectTest
from sales.models import DealStageChange, Order, Quote, QuoteLine, Stage
from sales.team_models import CompanyDetails, Quota
from service.knowledge_models import ArticleTranslation, CategoryTranslation
from service.models import ArticleCategory, Escalation, Holiday, SuggestionOpen
from service.reply_models import Macro
from tests.factories import (
    CampaignRecipientFactory,
    ConsentFactory,
    ContactFactory,
    CustomerFactory,
    DealFactory,
    InteractionFactory,
    KnowledgeArticleFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    SatisfactionResponseFactory,
    SegmentRunFactory,
    TagFactory,
    TaskFactory,
    TeamFactory,
    TicketFactory,
    TicketMessageFactory,
)

# Texts a spreadsheet would run, and texts that look escaped: each must come back as it was.
AWKWARD = ["=SUM(A1)", "'quoted", "''=x", "-5", "@cmd", "  +1 leading", '中文, "quoted"\nline 2']


@pytest.fixture
def business(manager, rep) -> list[Customer]:
    """A little of everything users create, with awkward text in the text columns."""
    vip = TagFactory.create(name="=vip")
    customers = []
    for number, text in enumerate(AWKWARD):
        customer = CustomerFactory.create(
            external_id=f"EXT-{number}", name=text, city=text, owner=rep, is_key_account=number % 2
        )
        customer.tags.add(vip)
        customers.append(customer)
    customers.append(CustomerFactory.create(external_id="", name="No external id", owner=None))
    first = customers[0]
    ConsentFactory.create(customer=first)
    contact = ContactFactory.create(customer=first, name="=contact")
    InteractionFactory.create(customer=first, contact=contact, summary="-called")
    InteractionFactory.create(
        customer=first, channel="email", summary="=mail", message_id="<a@b>", thread="<a@b>"
    )
    EmailTemplate.objects.create(
        owner=rep, name="=intro", subject="Hi {{ first_name }}", body="-body", shared=True
    )
    TaskFactory.create(customer=first, title="@follow up", assignee=rep, created_by=manager)
    product = ProductFactory.create(name="+Widget")
    deal = DealFactory.create(customer=first, owner=rep, title="=deal")
    DealStageChange.objects.create(deal=deal, to_stage=deal.stage, changed_by=rep)
    quote = Quote.objects.create(
        deal=deal, number="Q-1", valid_until=date(2026, 12, 31), notes="'note", created_by=rep
    )
    QuoteLine.objects.create(
        quote=quote,
        product=product,
        description="=line",
        quantity=Decimal("2.5"),
        unit_price=Decimal("10.00"),
        discount_percent=Decimal("5"),
        tax_rate=Decimal("13"),
    )
    base = timezone.now() - timedelta(days=30)
    for index, customer in enumerate(customers):
        order = OrderFactory.create(
            customer=customer,
            number=f"ORD-{index}",
            ordered_at=base + timedelta(days=index, microseconds=index),
            total=Decimal(f"{index}1.25"),
            channel="web",
            coupon_code="=COUPON" if index == 0 else "",
        )
        OrderLineFactory.create(
            order=order, product=product, description=AWKWARD[index % len(AWKWARD)]
        )
    ticket = TicketFactory.create(customer=first, subject="=help", assignee=manager)
    ticket.tags.add(vip)
    TicketMessageFactory.create(ticket=ticket, body="-reply")
    # A requester's ticket (issue 13): no customer, the sender's name and email on it.
    TicketFactory.create(
        customer=None,
        requester_name="=Zhao",
        requester_email="zhao@example.net",
        sender_unverified=True,
    )
    Escalation.objects.create(
        ticket=ticket, target="first_response", level=1, due_at=timezone.now()
    )
    KnowledgeArticleFactory.create(title="@article", body="=body")
    SatisfactionResponseFactory.create(ticket=ticket)
    CampaignRecipientFactory.create(customer=first, campaign__owner=manager, campaign__body="=Hi")
    category = ArticleCategory.objects.create(name="=Billing")
    article = KnowledgeArticleFactory.create(title="=FAQ", category=category)
    CategoryTranslation.objects.create(category=category, language="zh-hans", name="=账单")
    SuggestionOpen.objects.create(article=article, visit="v1", ticket_followed=True)
    TeamFactory.create(name="-Support").members.add(manager)
    Holiday.objects.create(date=date(2026, 12, 25), name="=Christmas")
    SavedView.objects.create(user=rep, name="=mine", query="owner=me")
    manager.user_permissions.add(Permission.objects.get(codename="view_customer"))
    account = LoyaltyAccount.objects.create(customer=first, balance=5, earned=5)
    LoyaltyEntry.objects.create(customer=first, kind="adjusted", points=5, reason="=gift")
    assert account.pk
    _this_rounds_records(customers, manager, rep, contact, vip, ticket)
    SegmentRunFactory.create(requested_by=manager)  # derived: not exported, emptied on restore
    return customers


def _this_rounds_records(customers, manager, rep, contact, tag, ticket) -> None:
    """Rates, preferences, meetings, merges, quotas, the seller, translations, macros and a
    subject-line test (issue 16 and 17): a row in each of their tables."""
    first, second = customers[0], customers[1]
    ExchangeRate.objects.create(currency="EUR", day=date(2026, 1, 1), rate=Decimal("1.1"))
    NotificationPreference.objects.create(user=rep, kind="task_due", delivery="digest")
    UserProfile.objects.create(user=rep, language="zh-hans", phone="+1 555 0100", job_title="=Rep")
    meeting = InteractionFactory.create(customer=first, channel="meeting", summary="=meet")
    meeting.attendees.add(manager)
    meeting.attendee_contacts.add(contact)
    CustomerMerge.objects.create(
        customer=first, duplicate_id=999, duplicate_name="=dup", merged_by=manager, moved={}
    )
    DuplicateDismissal.objects.create(first=first, second=second, dismissed_by=manager)
    Quota.objects.create(owner=rep, month=date(2026, 12, 1), amount=Decimal("1000.00"))
    CompanyDetails.objects.create(name="=Seller Ltd", tax_id="-42")
    article = KnowledgeArticleFactory.create(title="=translated")
    ArticleTranslation.objects.create(
        article=article, language="zh-hans", title="=标题", body="-正文", is_published=True
    )
    macro = Macro.objects.create(name="=thanks", body="Thanks {{ customer.name }}", owner=manager)
    macro.add_tags.add(*ticket.tags.all())
    campaign = CampaignRecipientFactory.create(customer=second, campaign__owner=manager).campaign
    SubjectTest.objects.create(campaign=campaign, subject_b="=Subject B")


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def _snapshot() -> dict[str, list[tuple]]:
    """Every exported table's rows, value for value, in id order."""
    return {
        label_of(model): list(
            model._base_manager.order_by("pk").values_list(*(f.attname for f in columns_of(model)))
        )
        for model in exported_models()
    }


def test_every_model_is_exported_or_named_as_derived():
    """A new model must be classified: does a backup need it, or is it computed again?"""
    known = set(EXPORTED) | set(DERIVED) | FRAMEWORK
    installed = {label_of(model) for model in apps.get_models(include_auto_created=True)}
    ours = {label for label in installed if not label.startswith("devtools.")}
    assert ours - known == set()
    assert set(EXPORTED) - installed == set()


def test_export_writes_every_table_and_a_manifest_that_checks_it(business, tmp_path):
    call_command("export_all", tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["format"] == "crm-export/1"
    assert manifest["app_version"] != "unknown"
    assert "0001_initial" in manifest["migrations"]["customers"]
    assert abs(timezone.now() - datetime.fromisoformat(manifest["exported_at"])) < timedelta(
        minutes=5
    )
    tables = {entry["model"]: entry for entry in manifest["tables"]}
    assert list(tables) == EXPORTED
    for model in exported_models():
        entry = tables[label_of(model)]
        path = tmp_path / entry["file"]
        assert entry["table"] == model._meta.db_table
        assert entry["rows"] == model._base_manager.count()
        assert entry["sha256"] == sha256_of(path)
        assert _rows(path)[0] == entry["columns"]
        assert len(_rows(path)) == entry["rows"] + 1
    assert tables["customers.Customer"]["rows"] == len(business)
    assert tables["customers.HistoricalConsent"]["rows"] >= 1
    # No password hash leaves the database; no derived table is exported.
    assert "password" not in tables["auth.User"]["columns"]
    assert not set(DERIVED) & set(tables)
    # Text a spreadsheet would run is written with a ' in front.
    names = {row[2] for row in _rows(tmp_path / "customers_customer.csv")[1:]}
    assert "'=SUM(A1)" in names and "''quoted" in names and "'''=x" in names
    files = {entry["file"]: entry for entry in manifest["import_files"]}
    assert files[CUSTOMERS_IMPORT_FILE]["rows"] == len(business)
    assert files[ORDERS_IMPORT_FILE]["rows"] == len(business) - 1  # one without external id


def _wipe() -> None:
    """Every row users created and every derived row, as a lost database would be (users stay)."""
    kept = {"auth.Group", "auth.Group_permissions", "auth.User", "auth.User_groups"}
    for model in derived_models() + list(reversed(exported_models())):
        if label_of(model) not in kept:
            model._base_manager.all()._raw_delete(connection.alias)


def _stripped(values: tuple) -> tuple:
    return tuple(value.strip() if isinstance(value, str) else value for value in values)


def test_exported_customers_and_orders_come_back_through_the_importers(business, manager, tmp_path):
    """Export, wipe, re-import customers through the customer import and orders through
    import_orders: the same counts and, in every imported column, the same values.

    The other tables have no importer (contacts, interactions, tasks, deals, quotes, tickets,
    articles, campaigns, consent history...): import_all restores them (the test below)."""
    call_command("export_all", tmp_path)
    imported_fields = [c for c in CUSTOMER_COLUMNS if c not in ("owner", "tags")]
    customers_before = list(
        Customer.objects.order_by("external_id", "name").values_list(
            *imported_fields, "owner__username"
        )
    )
    tags_before = sorted(Customer.objects.values_list("external_id", "tags__name"))
    order_fields = [
        "customer__external_id",
        "number",
        "ordered_at",
        "total",
        "channel",
        "currency",
        "coupon_code",
    ]
    orders_before = list(
        Order.objects.exclude(customer__external_id="")
        .order_by("number")
        .values_list(*order_fields)
    )

    _wipe()
    assert not Customer.objects.exists() and not Order.objects.exists() and not Tag.objects.exists()

    text = (tmp_path / CUSTOMERS_IMPORT_FILE).read_text(encoding="utf-8")
    upload = customer_import_create(
        user=manager, file_name="customers.csv", text=text, row_count=len(business)
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = customer_import_apply(
            customer_import=upload, user=manager, mode=CustomerImport.Mode.ALL_OR_NOTHING
        )
    assert result.applied and result.analysis.error_count == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("import_orders", tmp_path / ORDERS_IMPORT_FILE)

    assert Customer.objects.count() == len(business)
    # The importer's own rules are the only differences: it strips the blanks around a cell
    # (as the forms do), and a row without an owner is the importing user's.
    customers_expected = [
        (*_stripped(values[:-1]), values[-1] or manager.username) for values in customers_before
    ]
    assert (
        list(
            Customer.objects.order_by("external_id", "name").values_list(
                *imported_fields, "owner__username"
            )
        )
        == customers_expected
    )
    assert sorted(Customer.objects.values_list("external_id", "tags__name")) == tags_before
    assert Order.objects.count() == len(business) - 1
    assert list(Order.objects.order_by("number").values_list(*order_fields)) == orders_before


def test_import_all_restores_every_table_value_for_value(business, tmp_path):
    before = _snapshot()
    empty = [label for label, rows in before.items() if not rows]
    assert empty == [], empty  # every table is tried
    call_command("export_all", tmp_path)
    _wipe()
    call_command("import_all", tmp_path, "--replace")
    after = _snapshot()
    for label in EXPORTED:
        assert after[label] == before[label], label
    # Derived rows are gone (recomputed by the next segment run); ids continue after the
    # restored ones; restored users must set a new password.
    assert not apps.get_model("analytics", "SegmentRun").objects.exists()
    new = CustomerFactory.create()
    assert new.pk > max(c.pk for c in business)
    user = apps.get_model("auth", "User").objects.get(username="manager")
    assert not user.has_usable_password()
    assert Stage.objects.count() == len(before["sales.Stage"])


def test_import_all_refuses_a_changed_file_or_a_full_database(business, tmp_path):
    call_command("export_all", tmp_path)
    count = Customer.objects.count()
    with pytest.raises(RestoreError, match="already holds data"):
        import_all(directory=tmp_path)
    path = tmp_path / "customers_customer.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="sha256"):
        call_command("import_all", tmp_path, "--replace")
    assert Customer.objects.count() == count


def test_import_all_refuses_a_damaged_manifest_or_row_with_a_message(business, tmp_path):
    call_command("export_all", tmp_path)
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text("{not json")
    with pytest.raises(CommandError, match="manifest.json cannot be read"):
        call_command("import_all", tmp_path, "--replace")
    # A row whose cell is no number, with the manifest's checksum made to match it.
    entry = next(t for t in manifest["tables"] if t["model"] == "sales.Order")
    path = tmp_path / entry["file"]
    rows = _rows(path)
    rows[1][entry["columns"].index("total")] = "lots"
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    entry["sha256"] = sha256_of(path)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="sales_order.csv, line 2"):
        call_command("import_all", tmp_path, "--replace")
    assert Order.objects.count() == len(business)
