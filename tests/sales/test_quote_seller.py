"""The printed quote shows the seller (company details from the admin, logo through the
storage API) and the rep, in the customer's language when it has one (issue 16)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import UserProfile
from sales.models import CompanyDetails
from sales.services import quote_create
from tests.factories import CustomerFactory, DealFactory
from tests.sales.lines import line

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def quote(rep):
    rep.first_name, rep.last_name, rep.email = "Rita", "Reyes", "rita@seller.example"
    rep.save()
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep, name="Acme"))
    return quote_create(
        deal=deal, valid_until=timezone.localdate() + timedelta(days=30), created_by=rep,
        lines=[line()],
    )  # fmt: skip


@pytest.fixture
def company(db):
    details = CompanyDetails(
        name="Northwind Trading", address="1 Harbour Road\nSeaport", tax_id="VAT-12345",
        email="sales@northwind.example", phone="+1 555 0100",
    )  # fmt: skip
    details.logo.save("logo.png", SimpleUploadedFile("logo.png", PNG), save=False)
    details.full_clean()
    details.save()
    return details


def printed(client, quote) -> str:
    response = client.get(reverse("sales:quote-print", args=[quote.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_printed_quote_shows_the_company_and_the_rep(quote, company, rep_client):
    page = printed(rep_client, quote)
    for text in ("Northwind Trading", "1 Harbour Road<br>Seaport", "VAT-12345", "+1 555 0100"):
        assert text in page
    assert 'src="data:image/png;base64,' in page
    assert "Rita Reyes" in page and "rita@seller.example" in page


def test_without_company_details_a_placeholder_is_printed(quote, rep_client):
    assert "Our company" in printed(rep_client, quote)


def test_printed_in_chinese_for_a_zh_hans_customer(quote, company, rep_client):
    quote.deal.customer.language = "zh-hans"
    quote.deal.customer.save()
    page = printed(rep_client, quote)
    assert '<html lang="zh-hans">' in page
    assert "报价" in page  # "Quote"
    assert "Northwind Trading" in page


def test_printed_in_the_users_language_when_the_customer_has_none(quote, rep_client):
    page = printed(rep_client, quote)
    assert '<html lang="en">' in page


@pytest.mark.parametrize(
    "content", [b"<svg onload=alert(1)></svg>", b"<html><script>x</script>", b"", b"%PDF-1.4 x"]
)
def test_a_logo_must_be_an_image(db, content):
    details = CompanyDetails(name="X")
    details.logo.save("logo.png", SimpleUploadedFile("logo.png", content), save=False)
    with pytest.raises(ValidationError):
        details.full_clean()


def test_only_one_company_record(company):
    CompanyDetails(name="Second").save()
    assert CompanyDetails.objects.count() == 1
    assert CompanyDetails.current().name == "Second"


def test_the_printed_quote_gives_the_reps_phone_and_job_title(quote, rep, rep_client):
    """The review found no phone on the quote: users had none to give (issue 16)."""
    assert "555 0199" not in printed(rep_client, quote)
    UserProfile.objects.create(user=rep, phone="+1 555 0199", job_title="Account executive")
    contact = printed(rep_client, quote).split('id="rep-contact">')[1].split("</div>")[0]
    assert "Rita Reyes, Account executive" in contact
    assert "rita@seller.example" in contact and "+1 555 0199" in contact
