"""Exchange rates in the admin: list and filter, and the CSV import with errors per row,
never a 500 for a hostile file, and the `exchange_rates_changed` signal after the commit."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.exchange_rates import exchange_rates_changed
from core.models import ExchangeRate

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:core_exchangerate_import")


def upload(client, content: bytes):
    return client.post(IMPORT, {"file": SimpleUploadedFile("rates.csv", content, "text/csv")})


def test_list_filters_by_currency(admin_client):
    ExchangeRate.objects.create(currency="EUR", day=date(2026, 1, 1), rate="1.1")
    ExchangeRate.objects.create(currency="GBP", day=date(2026, 1, 1), rate="1.3")
    url = reverse("admin:core_exchangerate_changelist")
    response = admin_client.get(url, {"currency": "GBP"})
    assert response.status_code == 200
    assert list(response.context["cl"].queryset.values_list("currency", flat=True)) == ["GBP"]
    assert "Import from CSV" in admin_client.get(url).content.decode()


def test_import_saves_replaces_and_announces_the_first_changed_day(
    admin_client, django_capture_on_commit_callbacks
):
    ExchangeRate.objects.create(currency="EUR", day=date(2026, 1, 2), rate="1.0")
    heard = []

    def listen(sender, changes, **kwargs):
        heard.append(changes)

    exchange_rates_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(
                admin_client,
                b"date,currency,rate\n2026-01-02,eur,1.0845\n2026-01-01,GBP,1.27\n"
                b"2026-01-05,EUR,1.09\n",
            )
    finally:
        exchange_rates_changed.disconnect(listen)
    assert response.status_code == 302
    assert ExchangeRate.objects.get(currency="EUR", day=date(2026, 1, 2)).rate == Decimal("1.0845")
    assert ExchangeRate.objects.count() == 3
    assert heard == [{"EUR": date(2026, 1, 2), "GBP": date(2026, 1, 1)}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"date,currency,rate\n2026-02-30,EUR,1.1\n", "is not a date"),
        (b"date,currency,rate\n2026-01-01,XYZ,1.1\n", "ISO 4217"),
        (b"date,currency,rate\n2026-01-01,EUR,-1\n", "positive rate"),
        (b"date,currency,rate\n2026-01-01,EUR,1e999999\n", "positive rate"),
        (b"date,currency,rate\n2026-01-01,EUR,NaN\n", "positive rate"),
        ("date,currency,rate\n٢٠٢٦-01-01,EUR,١\n".encode(), "is not a date"),
        (b"date,currency,rate\n2026-01-01,<script>,1\n", "ISO 4217"),
        (b"date,currency\n2026-01-01,EUR\n", "it has no"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV file"),
        (b"date,currency,rate\n2026-01-01,EUR,1\x00\n", "NUL bytes"),
        (b"", "empty"),
        (b"\xff\xfe\x00d", "UTF-16"),
    ],
)
def test_hostile_files_get_a_message_and_save_nothing(admin_client, content, message):
    response = upload(admin_client, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExchangeRate.objects.exists()


def test_only_staff_with_add_permission_import(client, rep):
    client.force_login(rep)
    response = upload(client, b"date,currency,rate\n2026-01-01,EUR,1.1\n")
    assert response.status_code in (302, 403)
    assert not ExchangeRate.objects.exists()
