"""Deals, quotes and orders stored before currencies were validated ("rmb", "RMB"): a
migration normalises them, and a code it cannot fix is a message on the page, not a 500."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from sales.models import Deal
from tests.factories import CustomerFactory, DealFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("sales.migrations.0014_normalise_currency_codes")


def _deal_with_currency(rep, code):
    pk = DealFactory(owner=rep, customer=CustomerFactory(owner=rep)).pk
    Deal.objects.filter(pk=pk).update(currency=code)  # as stored before validation
    return Deal.objects.get(pk=pk)


def test_the_migration_upper_cases_codes_and_maps_aliases(rep, capsys):
    lower, alias, unknown = (_deal_with_currency(rep, code) for code in ("eur", "rmb", "XQQ"))
    migration.normalise_currencies(apps, None)
    codes = dict(Deal.objects.values_list("pk", "currency"))
    assert (codes[lower.pk], codes[alias.pk], codes[unknown.pk]) == ("EUR", "CNY", "XQQ")
    assert "XQQ" in capsys.readouterr().out  # left as it is, and said


def test_winning_a_deal_with_an_unknown_currency_says_why(rep, rep_client):
    deal = _deal_with_currency(rep, "XQQ")
    url = reverse("sales:deal-win", args=[deal.pk])
    response = rep_client.post(url, {"version": deal.version, "amount": "10"})
    assert response.status_code == 422
    assert "XQQ" in response.content.decode()
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN


def test_losing_a_deal_with_an_unknown_currency_says_why(rep, rep_client):
    deal = _deal_with_currency(rep, "XQQ")
    url = reverse("sales:deal-lose", args=[deal.pk])
    response = rep_client.post(url, {"version": deal.version, "reason": "price"})
    assert response.status_code == 422


def test_setting_a_next_step_on_a_deal_with_an_unknown_currency_says_why(rep, rep_client):
    deal = _deal_with_currency(rep, "XQQ")
    url = reverse("sales:deal-next-step", args=[deal.pk])
    due = timezone.localdate() + timedelta(days=3)
    response = rep_client.post(url, {"title": "Call", "due_date": due}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "XQQ" in response.content.decode()
    assert Decimal(deal.amount) == Deal.objects.get(pk=deal.pk).amount
