"""The global search finds customers, contacts, deals and tickets, with the words of a name in
any order, and only what the user may see (issue 16)."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, CustomerFactory, DealFactory, TicketFactory

pytestmark = pytest.mark.django_db
SEARCH = reverse("customers:search")


def hits(client, text: str, **headers) -> dict[str, list[str]]:
    response = client.get(SEARCH, {"q": text}, headers=headers)
    assert response.status_code == 200
    return {
        group["key"]: [hit.title for hit in group["hits"]] for group in response.context["groups"]
    }


def test_names_typed_in_either_order(manager_client):
    CustomerFactory(name="Hazel Watts")
    CustomerFactory(name="Hazel Brown")
    assert hits(manager_client, "Watts Hazel")["customers"] == ["Hazel Watts"]
    assert hits(manager_client, "hazel   watts")["customers"] == ["Hazel Watts"]
    # Across columns: a word of the name and a word of the company.
    CustomerFactory(name="Ann Lee", organization="Acme Ltd")
    assert hits(manager_client, "acme ann")["customers"] == ["Ann Lee"]


def test_contacts_deals_and_tickets_are_found(manager_client):
    customer = CustomerFactory(name="Northwind")
    ContactFactory(customer=customer, name="Marta Ruiz", email="marta@northwind.example")
    DealFactory(customer=customer, title="Espresso machines for 12 shops")
    ticket = TicketFactory(customer=customer, subject="Grinder broken")
    found = hits(manager_client, "Ruiz Marta")
    assert found["contacts"] == ["Marta Ruiz"]
    assert hits(manager_client, "espresso shops")["deals"] == ["Espresso machines for 12 shops"]
    assert hits(manager_client, "grinder")["tickets"] == [f"{ticket.number} Grinder broken"]
    assert hits(manager_client, ticket.number)["tickets"] == [f"{ticket.number} Grinder broken"]
    assert hits(manager_client, str(ticket.pk))["tickets"] == [f"{ticket.number} Grinder broken"]


def test_each_kind_only_shows_what_the_user_may_see(rep, rep2, rep_client, agent_client):
    theirs = CustomerFactory(name="Theirs Co", owner=rep2)
    DealFactory(customer=theirs, owner=rep2, title="Their secret deal")
    TicketFactory(customer=theirs, subject="Their secret ticket")
    mine = CustomerFactory(name="Mine Co", owner=rep)
    DealFactory(customer=mine, owner=rep, title="My secret deal")
    found = hits(rep_client, "secret")
    assert found.get("deals") == ["My secret deal"]  # another rep's deal is not found
    assert "Their secret ticket" not in str(found.get("tickets"))  # not the rep's customer
    assert "deals" not in hits(agent_client, "secret")  # agents see no deals


def test_the_suggestions_list_a_few_of_each_kind_and_link_to_all(manager_client):
    for n in range(7):
        CustomerFactory(name=f"Delta {n}")
    response = manager_client.get(SEARCH, {"q": "delta"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.count("Delta ") == 5 and f"{SEARCH}?q=delta" in page


@pytest.mark.parametrize("text", ["\x00", "T-" + "9" * 40, "١٢٣", "<script>x</script>", "a " * 300])
def test_hostile_searches_answer_200(manager_client, text):
    assert manager_client.get(SEARCH, {"q": text}).status_code == 200
    assert (
        manager_client.get(SEARCH, {"q": text}, headers={"HX-Request": "true"}).status_code == 200
    )


def test_a_closed_deal_says_won_once(manager_client, rep):
    """A won deal's suggestion read "Northwind · Won · Won": its stage and its status."""
    from sales.models import Deal
    from sales.services import deal_win

    customer = CustomerFactory(name="Northwind")
    won = DealFactory(customer=customer, owner=rep, title="Espresso machines")
    deal_win(deal=won, won_by=rep, expected_version=won.version)
    DealFactory(customer=customer, owner=rep, title="Espresso grinders")
    response = manager_client.get(SEARCH, {"q": "espresso"})
    details = {
        hit.title: hit.detail
        for group in response.context["groups"]
        if group["key"] == "deals"
        for hit in group["hits"]
    }
    assert details["Espresso machines"] == "Northwind · Won"
    assert (
        details["Espresso grinders"]
        == f"Northwind · {Deal.objects.get(title='Espresso grinders').stage} · Open"
    )
