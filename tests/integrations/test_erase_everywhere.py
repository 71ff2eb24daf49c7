"""Erasure end to end across the five apps, on PostgreSQL (issue 13, point 7).

A customer with everything a CRM holds on someone: contacts, interactions, tasks, deals,
quotes, orders, tickets and their messages and emails, a CSAT comment, campaign recipients,
loyalty, consents, change history, a pending import file, an audited search and an admin
log entry. After the erasure, every text, varchar and json column of every table in the
database (found through information_schema, so a table added later is searched too) is
searched for each of the customer's personal values: none may be found. Orders, segment
figures, campaign figures and service figures stay as they were.

On today's main (before erasure existed) this fails at the import of customers.erasure;
with deletion instead, customers with orders or tickets cannot be removed at all, and the
history rows of a deleted one keep every value.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from analytics.reports import Period, segment_rows
from analytics.service_reports import ticket_volume
from analytics.services import run_compute_now
from core.audit import audit_record
from core.models import AuditEvent, OutboxMessage
from customers.erasure import customer_erase
from customers.import_services import customer_import_create
from customers.models import Channel, Customer, Interaction
from customers.services import (
    contact_save,
    customer_create,
    customer_update,
    interaction_log,
    task_create,
)
from marketing.models import CampaignRecipient, LoyaltyAccount
from marketing.reports import campaign_figures
from marketing.services.leads import lead_submit
from marketing.services.loyalty import loyalty_adjust
from sales.import_services import order_import_create
from sales.models import Order, Stage
from sales.services import deal_create, deal_lose, order_create, quote_create
from service.models import Ticket
from service.services import (
    satisfaction_record,
    ticket_create,
    ticket_reply,
    ticket_submit_public,
)
from tests.factories import CampaignFactory, CustomerFactory, ProductFactory

NAME = "Zhao Mingyue"
OLD_EMAIL = "old.mingyue@erase-example.cn"
EMAIL = "mingyue.zhao@erase-example.cn"
PHONE = "+86 138 5555 0199"
ADDRESS = "88 Qianjiang Road 7F"
EXTERNAL_ID = "EXT-ERASE-0099"
NOTES = "Prefers calls after six; allergic to peanuts"
CONTACT = ("Li Xiaolong", "xiaolong.li@erase-example.cn", "+86 139 0000 4242")
TEXTS = [
    "Called about the cracked teapot, very upset",  # interaction
    "Ring back about the teapot refund",  # task
    "Deliver to the back door, gate code 4471",  # quote notes
    "Chose a rival after the gate code mix-up",  # lost reason
    "Cracked teapot on arrival",  # ticket subject
    "The spout of my teapot cracked on the first day",  # ticket description
    "Sorry for the teapot, a new one is on its way",  # public reply (emailed)
    "Customer sounded distressed, handle gently",  # internal note
    "Quick replacement, thank you",  # CSAT comment
    "Asked for the spring catalogue",  # campaign outcome note
    "Please change my delivery address",  # help-centre request
]
PERSONAL_VALUES = [
    NAME,
    "Mingyue",
    OLD_EMAIL,
    EMAIL,
    PHONE,
    "13855550199",
    ADDRESS,
    EXTERNAL_ID,
    NOTES,
    *CONTACT,
    *TEXTS,
]


def text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = current_schema()
                 AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
               ORDER BY table_name, column_name"""
        )
        return cursor.fetchall()


def where_found(value: str) -> list[str]:
    """Every table.column (any text-like type, history tables included) holding `value`."""
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            quoted = f"{connection.ops.quote_name(table)}.{connection.ops.quote_name(column)}"
            cursor.execute(
                f"SELECT count(*) FROM {connection.ops.quote_name(table)} "  # noqa: S608
                f"WHERE {quoted}::text ILIKE %s",
                [f"%{value}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def build_customer(manager, rep):
    """Everything the CRM can hold on one customer, made through the apps' own services."""
    customer = customer_create(
        data={"name": NAME, "email": OLD_EMAIL, "phone": PHONE, "address": ADDRESS,
              "city": "Hangzhou", "external_id": EXTERNAL_ID, "notes": NOTES,
              "organization": "Mingyue Tea House"},
        owner=rep, consent_channels=[Channel.EMAIL, Channel.SMS], consent_source="web form",
    )  # fmt: skip
    customer = customer_update(customer=customer, expected_version=customer.version,
                               data={"email": EMAIL, "stage": Customer.Stage.CUSTOMER})  # fmt: skip
    contact = contact_save(
        customer=customer, data={"name": CONTACT[0], "email": CONTACT[1], "phone": CONTACT[2]}
    )
    interaction_log(customer=customer, logged_by=rep, channel=Channel.PHONE,
                    direction=Interaction.Direction.INBOUND, summary=TEXTS[0], contact=contact)  # fmt: skip
    task_create(customer=customer, title=TEXTS[1], due_date=date.today(), assignee=rep,
                created_by=rep)  # fmt: skip
    product = ProductFactory(name="Teapot, celadon")
    line = {"product": product, "description": f"Teapot engraved for {NAME}",
            "quantity": Decimal("1"), "unit_price": Decimal("80.00")}  # fmt: skip
    stage = Stage.objects.filter(is_won=False, is_lost=False).order_by("order").first()
    deal = deal_create(customer=customer, title=f"Teapots for {NAME}", amount=Decimal("500"),
                       stage=stage, expected_close_date=date.today(), owner=rep,
                       created_by=rep, contact=contact)  # fmt: skip
    quote_create(deal=deal, valid_until=date.today() + timedelta(days=30), created_by=rep,
                 lines=[line], notes=TEXTS[2])  # fmt: skip
    deal_lose(deal=deal, reason=TEXTS[3], lost_by=rep, expected_version=deal.version)
    when = timezone.now() - timedelta(days=40)
    order_create(customer=customer, ordered_at=when, lines=[line])
    order_create(customer=customer, ordered_at=when + timedelta(days=10), lines=[line])
    ticket = ticket_create(customer=customer, subject=TEXTS[4], description=TEXTS[5],
                           channel=Ticket.Channel.EMAIL, contact=contact, created_by=manager)  # fmt: skip
    ticket_reply(ticket=ticket, author=manager, body=TEXTS[6], internal=False)
    ticket_reply(ticket=ticket, author=manager, body=TEXTS[7], internal=True)
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.RESOLVED)
    satisfaction_record(ticket=Ticket.objects.get(pk=ticket.pk), score=4, comment=TEXTS[8])
    # A help-centre request from the customer's address, and one from the old address
    # (which matches nobody now: a requester nobody has linked yet).
    ticket_submit_public(email=EMAIL, name=NAME, subject=TEXTS[10], description=TEXTS[10],
                         category=Ticket.Category.QUESTION)  # fmt: skip
    ticket_submit_public(email=OLD_EMAIL, name=NAME, subject=TEXTS[10], description=TEXTS[10],
                         category=Ticket.Category.QUESTION)  # fmt: skip
    campaign = CampaignFactory(owner=manager)
    lead_submit(campaign=campaign, name=NAME, email=EMAIL, phone=PHONE, channels=["email"])
    CampaignRecipient.objects.create(
        campaign=campaign, customer=customer, status=CampaignRecipient.Status.BOUNCED,
        failure_reason=f"550 {EMAIL}: mailbox unavailable",
        outcome=CampaignRecipient.Outcome.CONVERTED, outcome_note=TEXTS[9],
        revenue=Decimal("80.00"),
    )  # fmt: skip
    loyalty_adjust(customer=customer, points=50, reason=f"Goodwill for {NAME}", by=manager)
    csv = (
        f"external_id,name,email\n{EXTERNAL_ID},{NAME},{EMAIL}\nX-2,Somebody Else,se@example.com\n"
    )
    customer_import_create(user=rep, file_name="leads.csv", text=csv, row_count=2)
    order_import_create(user=manager, file_name="orders.csv", row_count=1,
                        text=f"customer_external_id,ordered_at,total\n{EXTERNAL_ID},2026-01-02,9.00\n")  # fmt: skip
    audit_record(AuditEvent.Action.EXPORT, actor=rep, target=Customer, rows=1,
                 detail={"filter": {"q": EMAIL}})  # fmt: skip
    LogEntry.objects.create(
        user=manager, content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk), object_repr=NAME, action_flag=CHANGE,
        change_message=f'[{{"changed": {{"fields": ["Phone"]}}, "name": "{NAME}"}}]',
    )  # fmt: skip
    return customer, campaign


def figures(customer, campaign) -> dict:
    orders = Order.objects.filter(customer=customer)
    period = Period(date.today() - timedelta(days=90), date.today())
    run = run_compute_now(as_of=date.today())
    return {
        "orders": sorted(orders.values_list("number", "total", "ordered_at")),
        "lines": sorted(orders.values_list("lines__quantity", "lines__unit_price")),
        "segments": [(row["segment"], row["customers"], row["revenue"]) for row in segment_rows(run)],
        "campaign": campaign_figures(campaign),
        "tickets": ticket_volume(period),
        "loyalty": LoyaltyAccount.objects.values_list("balance", "earned").get(customer=customer),
    }  # fmt: skip


def test_after_erasure_no_personal_value_is_left_in_any_column_and_the_figures_stand(
    postgres, manager, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        customer, campaign = build_customer(manager, rep)
    cups, pot = ProductFactory(name="Cups"), ProductFactory(name="Pot")
    for other in range(3):  # others, so the segment run has a population to score
        lines = [{"product": product, "description": product.name, "quantity": Decimal("1"),
                  "unit_price": Decimal(10 + other)} for product in (cups, pot)]  # fmt: skip
        order_create(customer=CustomerFactory(), ordered_at=timezone.now(), lines=lines)
    # The public reply was emailed to the ticket's contact.
    assert OutboxMessage.objects.filter(to__icontains=CONTACT[1]).exists()
    for value in PERSONAL_VALUES:
        assert where_found(value), f"the test did not store {value!r} anywhere"
    before = figures(customer, campaign)

    with django_capture_on_commit_callbacks(execute=True):
        changed = customer_erase(customer=customer, erased_by=manager)

    leftovers = {value: where_found(value) for value in PERSONAL_VALUES}
    assert {value: where for value, where in leftovers.items() if where} == {}
    customer.refresh_from_db()
    assert customer.name == f"Erased customer #{customer.pk}" and customer.erased_at
    assert figures(customer, campaign) == before
    event = AuditEvent.objects.get(action=AuditEvent.Action.ERASE)
    assert (event.actor, event.target_id, event.detail["rows"]) == (
        manager,
        str(customer.pk),
        changed,
    )
    assert set(changed) >= {"customers", "sales", "service", "marketing", "core"}
