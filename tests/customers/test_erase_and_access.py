"""A manager erases a customer or downloads everything held on them; no other role can.

Before issue 13 neither page existed (404): a customer with orders or tickets could not
be removed and nobody could hand a customer their data.
"""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import AuditEvent
from customers.erasure import AlreadyErasedError, customer_erase
from customers.import_services import customer_import_create
from customers.models import Customer, CustomerMerge
from customers.services import customers_merge
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

OTHER_ROLES = ["rep_client", "agent_client", "marketer_client", "nobody_client"]


@pytest.fixture
def customer(rep):
    customer = CustomerFactory(
        name="Wen Jiahui", email="jiahui@access-example.cn", phone="+86 21 5555 0101", owner=rep
    )
    ContactFactory(customer=customer, name="Ma Lin", email="malin@access-example.cn")
    InteractionFactory(customer=customer, summary="Asked about bulk pricing")
    OrderFactory(customer=customer, total=Decimal("120.00"))
    ticket = TicketFactory(customer=customer, subject="Late delivery")
    TicketMessageFactory(ticket=ticket, body="Where is my parcel?")
    return customer


def erase_url(customer):
    return reverse("customers:customer-erase", args=[customer.pk])


def data_url(customer):
    return reverse("customers:customer-data", args=[customer.pk])


@pytest.mark.parametrize("persona", OTHER_ROLES)
@pytest.mark.parametrize("url", [erase_url, data_url])
@pytest.mark.parametrize("method", ["get", "post"])
def test_other_roles_get_403_and_nothing_happens(request, persona, url, method, customer):
    client = request.getfixturevalue(persona)
    response = getattr(client, method)(url(customer), {"confirmation": str(customer.pk)})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.erased_at is None and customer.name == "Wen Jiahui"
    assert not AuditEvent.objects.filter(action__in=["erase", "access"]).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, customer):
    for url in (erase_url(customer), data_url(customer)):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url


def test_the_manager_sees_what_erasure_does_and_must_type_the_number(manager_client, customer):
    page = manager_client.get(erase_url(customer))
    assert page.status_code == 200
    html = page.content.decode()
    assert "This cannot be undone." in html and f"Erased customer #{customer.pk}" in html
    assert "1 contact loses its name, email and phone." in html
    for wrong in ["", "erase", str(customer.pk + 1), "\x00", "１" * 3, "9" * 40]:
        response = manager_client.post(erase_url(customer), {"confirmation": wrong})
        assert response.status_code == 422, wrong
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_erasing_blanks_the_customer_keeps_the_order_and_is_audited(
    manager, manager_client, customer
):
    response = manager_client.post(erase_url(customer), {"confirmation": f"#{customer.pk}"})
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone) == (
        f"Erased customer #{customer.pk}", "", ""
    )  # fmt: skip
    assert customer.orders.get().total == Decimal("120.00")
    assert customer.tickets.get().subject == "[erased]"
    assert customer.contacts.get().email == ""
    event = AuditEvent.objects.get(action=AuditEvent.Action.ERASE)
    assert (event.actor, event.target_type, event.target_id) == (
        manager, "customers.customer", str(customer.pk)
    )  # fmt: skip
    assert "jiahui" not in json.dumps(event.detail).lower()
    page = manager_client.get(customer.get_absolute_url()).content.decode()
    assert "personal data was erased (" in page and "Wen Jiahui" not in page
    assert manager_client.get(erase_url(customer)).status_code == 302  # nothing left to erase
    with pytest.raises(AlreadyErasedError):
        customer_erase(customer=customer, erased_by=manager)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASE).count() == 1


def test_the_download_holds_every_apps_data_and_is_audited(manager, manager_client, customer):
    page = manager_client.get(data_url(customer))
    assert page.status_code == 200 and "recorded in the audit log" in page.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS).exists()  # a look
    response = manager_client.post(data_url(customer))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="customer-{customer.pk}-'
    )
    data = json.loads(response.content)
    assert set(data) >= {"customers", "sales", "service", "analytics", "marketing"}
    assert data["customers"]["profile"]["email"] == "jiahui@access-example.cn"
    assert data["customers"]["contacts"][0]["name"] == "Ma Lin"
    assert data["customers"]["interactions"][0]["summary"] == "Asked about bulk pricing"
    assert data["sales"]["orders"][0]["total"] == "120.00"
    assert data["service"]["tickets"][0]["subject"] == "Late delivery"
    assert data["service"]["ticket_messages"][0]["body"] == "Where is my parcel?"
    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS)
    assert (event.actor, event.target_id) == (manager, str(customer.pk))


def test_files_held_on_the_customer_make_the_download_a_zip(manager_client, customer, rep):
    text = (
        "external_id,name,email\n"
        "W-1,Wen Jiahui,jiahui@access-example.cn\n"
        "W-2,Someone Else,someone@example.com\n"
    )
    customer_import_create(user=rep, file_name="leads.csv", text=text, row_count=2)
    response = manager_client.post(data_url(customer))
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    [document] = [name for name in names if name.endswith("/data.json")]
    [csv_file] = [name for name in names if "/files/customer-import-" in name]
    assert json.loads(archive.read(document))["customer_id"] == customer.pk
    lines = archive.read(csv_file).decode().splitlines()
    assert lines == ["external_id,name,email", "W-1,Wen Jiahui,jiahui@access-example.cn"]


def test_an_erased_customer_s_download_holds_nothing_personal(manager, manager_client, customer):
    customer_erase(customer=customer, erased_by=manager)
    content = manager_client.post(data_url(customer)).content.decode()
    for value in ("Wen Jiahui", "jiahui@", "Ma Lin", "bulk pricing", "Late delivery", "parcel"):
        assert value not in content
    assert Customer.objects.get(pk=customer.pk).orders.count() == 1


def test_deleting_or_merging_away_a_customer_leaves_no_history_of_them(manager, manager_client):
    from customers.models import Consent
    from customers.services import customer_delete, customers_merge

    gone = CustomerFactory(name="Gone Person", email="gone@example.com")
    kept, duplicate = CustomerFactory(), CustomerFactory(name="Dup Person")
    for customer in (gone, duplicate):
        customer.email = "changed@example.com"
        customer.save()  # a second history row
        Consent.objects.create(customer=customer, channel="email", granted=True)
    assert Customer.history.filter(id__in=[gone.pk, duplicate.pk]).count() == 4
    customer_delete(customer=gone)
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    assert not Customer.history.filter(id__in=[gone.pk, duplicate.pk]).exists()
    assert not Consent.history.filter(customer_id__in=[gone.pk, duplicate.pk]).exists()
    assert Customer.history.filter(id=kept.pk).exists()


def test_erasing_blanks_the_names_of_the_records_merged_into_the_customer(manager, customer):
    duplicate = CustomerFactory(name="Wen J. (old record)", email="wen.old@access-example.cn")
    customers_merge(kept=customer, duplicate=duplicate, merged_by=manager)
    customer_erase(customer=Customer.objects.get(pk=customer.pk), erased_by=manager)
    merge = CustomerMerge.objects.get(customer=customer)
    assert merge.duplicate_name == "[erased]"
    assert "old record" not in json.dumps(merge.moved) and "wen.old" not in json.dumps(merge.moved)
