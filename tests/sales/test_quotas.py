"""Quotas per rep and month (issue 16): set by managers on a page, validated, in the admin."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sales.models import Quota

QUOTAS = reverse("sales:quotas")
pytestmark = pytest.mark.django_db


def post(client, month, **amounts):
    data = {"month": month, **{f"quota_{user.pk}": value for user, value in amounts.values()}}
    return client.post(f"{QUOTAS}?month={month}", data)


def test_a_manager_sets_changes_and_removes_quotas(manager_client, manager, rep, rep2):
    response = post(manager_client, "2026-03", a=(rep, "5000"), b=(rep2, "2500.50"))
    assert response.status_code == 302
    assert dict(Quota.objects.values_list("owner__username", "amount")) == {
        "rep": Decimal("5000.00"),
        "rep2": Decimal("2500.50"),
    }
    quota = Quota.objects.get(owner=rep)
    assert (quota.month, quota.currency, quota.updated_by) == (date(2026, 3, 1), "USD", manager)
    post(manager_client, "2026-03", a=(rep, "6000"), b=(rep2, ""))
    assert dict(Quota.objects.values_list("owner__username", "amount")) == {"rep": Decimal("6000")}
    page = manager_client.get(QUOTAS, {"month": "2026-03"}).content.decode()
    assert 'value="6000.00"' in page


@pytest.mark.parametrize("amount", ["-1", "abc", "1e400", "1.001", "9999999999999", "١٢\x00"])
def test_bad_amounts_are_refused_with_a_message(manager_client, rep, amount):
    response = post(manager_client, "2026-03", a=(rep, amount))
    assert response.status_code == 422
    assert response.context["form"].errors
    assert not Quota.objects.exists()


@pytest.mark.parametrize("month", ["", "2026-13", "1900-01", "2026-03\x00", "<script>"])
def test_bad_months_are_refused(manager_client, rep, month):
    response = post(manager_client, month, a=(rep, "100"))
    assert response.status_code == 422
    assert not Quota.objects.exists()


def test_a_quota_is_for_a_whole_month_in_the_reporting_currency(rep):
    with pytest.raises(ValidationError):
        Quota(owner=rep, month=date(2026, 3, 2), amount=Decimal(1)).full_clean()
    with pytest.raises(ValidationError):
        Quota(owner=rep, month=date(2026, 3, 1), amount=Decimal(1), currency="EUR").full_clean()


def test_reps_cannot_see_or_set_quotas(rep_client, rep):
    assert rep_client.get(QUOTAS).status_code == 403
    assert post(rep_client, "2026-03", a=(rep, "1000000")).status_code == 403
    assert not Quota.objects.exists()


@pytest.mark.parametrize("persona", ["agent_client", "marketer_client", "nobody_client"])
def test_other_roles_cannot_set_quotas(request, persona):
    assert request.getfixturevalue(persona).get(QUOTAS).status_code == 403


def test_unicode_digits_are_read_as_digits(manager_client, rep):
    assert post(manager_client, "2026-03", a=(rep, "１２")).status_code == 302
    assert Quota.objects.get().amount == Decimal("12")


def test_quotas_are_in_the_admin(admin_client, rep):
    Quota.objects.create(owner=rep, month=date(2026, 3, 1), amount=Decimal("10"))
    assert admin_client.get(reverse("admin:sales_quota_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:sales_companydetails_add")).status_code == 200
