"""The demo data set: reproducible, one user per role, and every main page works for each."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Interaction
from tests.helpers import seed_demo_twice

pytestmark = pytest.mark.django_db


def test_seed_demo_is_reproducible_and_mixes_chinese_and_english_names():
    first, second = seed_demo_twice(
        lambda: list(Customer.objects.order_by("pk").values_list("name", "email", "region")),
        customers=40,
        seed=7,
    )
    assert first == second
    assert any("\u4e00" <= name[0] <= "\u9fff" for name, _e, _r in first)
    assert any(name[0].isascii() for name, _e, _r in first)
    assert Interaction.objects.exists()


def test_seed_demo_if_empty_keeps_existing_data(capsys):
    call_command("seed_demo", customers=5, verbosity=0)
    call_command("seed_demo", customers=50, if_empty=True)
    assert Customer.objects.count() == 5
    assert "rep2" in capsys.readouterr().out


@pytest.mark.parametrize("username", ["rep", "rep2", "agent", "marketer", "manager", "admin"])
def test_every_demo_user_logs_in_and_opens_the_main_pages(username):
    call_command("seed_demo", customers=20, verbosity=0)
    client = Client()
    assert client.login(request=HttpRequest(), username=username, password="demo")
    customer = Customer.objects.first()
    pages = [reverse("home"), reverse("customers:my-tasks"), reverse("password_change")]
    if get_user_model().objects.get(username=username).has_perm("customers.view_customer"):
        pages += [
            reverse("customers:customer-list"),
            customer.get_absolute_url(),
            reverse("customers:search") + "?q=a",
        ]
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_admin_pages_load_for_every_model(admin_client):
    call_command("seed_demo", customers=5, verbosity=0)
    for model in ["customer", "contact", "interaction", "task", "tag", "consent", "savedview"]:
        assert (
            admin_client.get(reverse(f"admin:customers_{model}_changelist"), {"q": "a"}).status_code
            == 200
        )
        assert admin_client.get(reverse(f"admin:customers_{model}_add")).status_code == 200
