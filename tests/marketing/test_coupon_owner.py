"""A campaign coupon is its recipient's (issue 13, point 8).

Before, an order carrying any recipient's code converted that recipient, whoever placed
it: a shared or leaked code credited the campaign with another customer's order, and
that customer could redeem it. Both tests failed before.
"""

import io
from decimal import Decimal as D

import pytest
from django.utils import timezone

from marketing.models import CampaignRecipient
from sales.import_services import order_import
from sales.services import order_create
from tests.factories import CampaignRecipientFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _order(customer, code, capture):
    with capture(execute=True):
        return order_create(
            customer=customer,
            ordered_at=timezone.now(),
            coupon_code=code,
            lines=[{"description": "Item", "quantity": D("1"), "unit_price": D("50"),
                    "discount_percent": D("0"), "tax_rate": D("0")}],
        )  # fmt: skip


def test_another_customers_order_does_not_redeem_the_coupon(django_capture_on_commit_callbacks):
    recipient = CampaignRecipientFactory(coupon_code="SPR-OWNED")
    stranger = CustomerFactory()
    _order(stranger, "spr-owned", django_capture_on_commit_callbacks)
    recipient.refresh_from_db()
    assert recipient.conversion_order is None and recipient.outcome == ""
    mine = _order(recipient.customer, "SPR-OWNED", django_capture_on_commit_callbacks)
    recipient.refresh_from_db()
    assert recipient.conversion_order == mine
    assert recipient.outcome == CampaignRecipient.Outcome.CONVERTED


def test_an_imported_order_of_another_customer_does_not_redeem(
    django_capture_on_commit_callbacks,
):
    owner = CustomerFactory(external_id="OWNER")
    CustomerFactory(external_id="OTHER")
    recipient = CampaignRecipientFactory(customer=owner, coupon_code="SPR-IMP")
    csv = (
        "customer_external_id,ordered_at,total,order_number,coupon_code\n"
        "OTHER,2026-01-05,100.00,IMP-1,spr-imp\n"
        "OWNER,2026-01-06,40.00,IMP-2,SPR-IMP\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_import(source=io.StringIO(csv, newline=""))
    recipient.refresh_from_db()
    assert recipient.conversion_order.number == "IMP-2"
    assert recipient.revenue == D("40.00")
