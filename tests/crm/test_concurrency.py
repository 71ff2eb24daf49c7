"""One version check (crm.lib.concurrency) for every edit: customers, deals, quotes, tickets,
campaigns and the board. A form posted without a version is a conflict, never a silent
overwrite; a stale one shows the user what the other person saved."""

import pytest
from django import forms
from django.urls import reverse

from crm.lib.concurrency import (
    NOT_A_USER_EDIT,
    ConcurrentEditError,
    differences,
    lock_for_update,
)
from customers.models import Customer
from customers.services import customer_update
from marketing.models import Campaign
from marketing.services.campaigns import campaign_update
from sales.models import Deal, Quote, Stage
from sales.services import deal_move, deal_update, quote_update
from service.models import Ticket
from service.services import ticket_create, ticket_update
from tests.customers.test_customer_pages import customer_form_data
from tests.factories import CampaignFactory, CustomerFactory, DealFactory
from tests.marketing.test_campaign_pages import form_data as campaign_form_data
from tests.sales.test_deals import deal_form_data, stage
from tests.sales.test_quotes import form_line, line, make_quote, post_data
from tests.service.test_ticket_page import form_data as ticket_form_data

pytestmark = pytest.mark.django_db
CONFLICT = "Someone else saved this"


def conflicts_of(response) -> dict[str, str]:
    return {c["label"]: c["theirs"] for c in response.context["conflicts"]}


# --- the service guard --------------------------------------------------------------------


def retitle_deal(deal, *, by, expected_version, title):
    """deal_update that changes the title only, as `by` (also the owner)."""
    return deal_update(
        deal=deal,
        expected_version=expected_version,
        updated_by=by,
        title=title,
        amount=deal.amount,
        stage=deal.stage,
        expected_close_date=deal.expected_close_date,
        owner=by,
    )


def test_lock_refuses_a_missing_or_stale_version_with_the_current_row(rep):
    customer = CustomerFactory(name="Saved")
    for expected in (None, 2):
        with pytest.raises(ConcurrentEditError) as raised:
            lock_for_update(customer, expected_version=expected, conflict_message="changed")
        assert raised.value.current.name == "Saved" and raised.value.current.version == 1
    assert lock_for_update(customer, expected_version=1, conflict_message="x").pk == customer.pk
    # Only a caller that says it is not a person's edit passes without a version.
    assert lock_for_update(customer, expected_version=NOT_A_USER_EDIT, conflict_message="x")


def test_every_edit_service_refuses_a_missing_version(rep, agent, marketer):
    customer = CustomerFactory()
    deal = DealFactory(owner=rep)
    quote = make_quote(DealFactory(owner=rep))
    ticket = ticket_create(customer=customer, subject="S", description="D", channel="phone")
    campaign = CampaignFactory(owner=marketer)
    edits = [
        lambda: customer_update(customer=customer, expected_version=None, data={"name": "X"}),
        lambda: retitle_deal(deal, by=rep, expected_version=None, title="X"),
        lambda: deal_move(deal=deal, stage=stage("Proposal"), moved_by=rep, expected_version=None),
        lambda: quote_update(
            quote=quote, valid_until=quote.valid_until, lines=[line()], expected_version=None
        ),
        lambda: ticket_update(ticket=ticket, user=agent, expected_version=None, priority="low"),
        lambda: campaign_update(campaign=campaign, expected_version=None, data={"name": "X"}),
    ]
    for edit in edits:
        with pytest.raises(ConcurrentEditError, match=CONFLICT):
            edit()
    versions = [
        Customer.objects.get(pk=customer.pk).version,
        Deal.objects.get(pk=deal.pk).version,
        Quote.objects.get(pk=quote.pk).version,
        Ticket.objects.get(pk=ticket.pk).version,
        Campaign.objects.get(pk=campaign.pk).version,
    ]
    assert versions == [1, 1, 1, 1, 1]


# --- the pages: a missing version is a conflict ---------------------------------------------


def test_customer_form_without_a_version_is_a_conflict(manager, manager_client):
    customer = CustomerFactory(name="Saved")
    url = reverse("customers:customer-update", args=[customer.pk])
    data = customer_form_data(name="Mine", email=customer.email, owner=manager.pk)
    response = manager_client.post(url, data)
    assert CONFLICT in response.content.decode()
    assert conflicts_of(response)["Name"] == "Saved"
    assert Customer.objects.get(pk=customer.pk).name == "Saved"


def test_deal_form_and_buttons_without_a_version_are_conflicts(rep, rep_client):
    deal = DealFactory(owner=rep, title="Saved")
    saved_stage = deal.stage
    data = deal_form_data(owner=str(rep.pk), title="Mine")
    response = rep_client.post(reverse("sales:deal-update", args=[deal.pk]), data)
    assert CONFLICT in response.content.decode()
    assert conflicts_of(response)["Title"] == "Saved"
    response = rep_client.post(reverse("sales:deal-win", args=[deal.pk]), follow=True)
    assert CONFLICT in response.content.decode()
    response = rep_client.post(
        reverse("sales:deal-lose", args=[deal.pk]), {"reason": "Price"}, follow=True
    )
    assert CONFLICT in response.content.decode()
    response = rep_client.post(
        reverse("sales:deal-move", args=[deal.pk]), {"stage": stage("Proposal").pk}
    )
    assert response.status_code == 409 and CONFLICT in response.json()["error"]
    deal.refresh_from_db()
    assert (deal.title, deal.status, deal.stage, deal.version) == ("Saved", "open", saved_stage, 1)


def test_quote_form_without_a_version_is_a_conflict(rep, rep_client):
    quote = make_quote(DealFactory(owner=rep), line(description="Saved line"))
    url = reverse("sales:quote-update", args=[quote.pk])
    response = rep_client.post(url, post_data([form_line("Mine")], notes="Mine"))
    assert CONFLICT in response.content.decode()
    assert list(quote.lines.values_list("description", flat=True)) == ["Saved line"]


def test_ticket_form_without_a_version_is_a_conflict(agent, agent_client):
    ticket = ticket_create(
        customer=CustomerFactory(), subject="S", description="D", channel="phone", priority="low"
    )
    data = ticket_form_data(ticket, priority="high")
    del data["version"]
    response = agent_client.post(reverse("service:ticket-update", args=[ticket.pk]), data)
    assert response.status_code == 409 and CONFLICT in response.content.decode()
    assert conflicts_of(response)["Priority"] == "Low"
    assert Ticket.objects.get(pk=ticket.pk).priority == "low"


def test_campaign_form_without_a_version_is_a_conflict(marketer, marketer_client):
    campaign = CampaignFactory(owner=marketer, name="Saved")
    data = campaign_form_data(owner=marketer.pk, name="Mine")
    response = marketer_client.post(reverse("marketing:campaign-update", args=[campaign.pk]), data)
    assert CONFLICT in response.content.decode()
    assert conflicts_of(response)["Name"] == "Saved"
    assert Campaign.objects.get(pk=campaign.pk).name == "Saved"


# --- the pages: a stale version shows the other person's values ---------------------------


def test_stale_deal_form_shows_their_values_and_saving_again_wins(rep, rep_client):
    deal = DealFactory(owner=rep, title="Before")
    retitle_deal(deal, by=rep, expected_version=1, title="Theirs")
    url = reverse("sales:deal-update", args=[deal.pk])
    response = rep_client.post(url, deal_form_data(owner=str(rep.pk), title="Mine", version="1"))
    assert conflicts_of(response)["Title"] == "Theirs"
    html = response.content.decode()
    assert 'id="conflicts"' in html and "Theirs" in html
    assert response.context["form"]["title"].value() == "Mine"  # the user's input is kept
    again = rep_client.post(url, response.context["form"].data)
    assert again.status_code == 302
    assert Deal.objects.get(pk=deal.pk).title == "Mine"


def test_a_saved_zero_that_equals_my_zero_is_not_listed_as_a_conflict():
    """0 == False in Python: a probability of 0 on both sides is no difference."""

    class DealLike(forms.Form):
        probability = forms.IntegerField(label="Win probability %")
        title = forms.CharField(label="Title")

    mine = DealLike(data={"probability": "0", "title": "Mine"})
    theirs = DealLike(initial={"probability": 0, "title": "Theirs"})
    assert [d["label"] for d in differences(mine, theirs)] == ["Title"]


def test_stale_quote_form_shows_their_notes_and_saving_again_wins(rep, rep_client):
    quote = make_quote(DealFactory(owner=rep))
    quote_update(
        quote=quote,
        valid_until=quote.valid_until,
        notes="Their terms",
        lines=[line()],
        expected_version=1,
    )
    url = reverse("sales:quote-update", args=[quote.pk])
    response = rep_client.post(url, post_data([form_line("Mine")], notes="My terms", version="1"))
    assert conflicts_of(response) == {"Notes": "Their terms"}
    assert response.context["form"]["version"].value() == "2"  # saving again is deliberate
    assert rep_client.post(url, response.context["form"].data).status_code == 302
    assert Quote.objects.get(pk=quote.pk).notes == "My terms"


def test_stale_ticket_form_shows_their_values(agent, agent_client):
    ticket = ticket_create(
        customer=CustomerFactory(), subject="S", description="D", channel="phone", priority="low"
    )
    stale = ticket_form_data(ticket, priority="high")
    ticket_update(ticket=ticket, user=agent, expected_version=1, priority="urgent")
    response = agent_client.post(reverse("service:ticket-update", args=[ticket.pk]), stale)
    assert response.status_code == 409
    assert conflicts_of(response) == {"Priority": "Urgent"}
    assert 'id="conflicts"' in response.content.decode()


def test_stale_campaign_form_shows_their_values(marketer, marketer_client):
    campaign = CampaignFactory(owner=marketer, name="Before")
    campaign_update(campaign=campaign, expected_version=1, data={"name": "Theirs"})
    data = campaign_form_data(owner=marketer.pk, name="Mine", version=1)
    response = marketer_client.post(reverse("marketing:campaign-update", args=[campaign.pk]), data)
    assert conflicts_of(response)["Name"] == "Theirs"
    assert 'id="conflicts"' in response.content.decode()


def test_stale_board_move_says_where_the_other_person_put_the_deal(rep, rep_client):
    deal = DealFactory(owner=rep)
    deal_move(deal=deal, stage=stage("Negotiation"), moved_by=rep, expected_version=1)
    response = rep_client.post(
        reverse("sales:deal-move", args=[deal.pk]), {"stage": stage("Proposal").pk, "version": 1}
    )
    assert response.status_code == 409
    assert response.json()["conflicts"] == [{"label": "Stage", "theirs": "Negotiation"}]
    assert Deal.objects.get(pk=deal.pk).stage == Stage.objects.get(pk=stage("Negotiation").pk)


def test_a_ticket_reply_is_not_a_form_edit_and_needs_no_version(agent):
    """Replies append a message: they say so (NOT_A_USER_EDIT) instead of skipping silently."""
    from service.services import ticket_reply

    ticket = ticket_create(
        customer=CustomerFactory(), subject="S", description="D", channel="phone"
    )
    ticket_reply(ticket=ticket, author=agent, body="On it", internal=False)
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.messages.filter(body="On it").exists()


def test_board_move_parses_its_post_with_a_form(rep, rep_client):
    """A superscript digit passed str.isdigit() and then failed int(): a 500."""
    deal = DealFactory(owner=rep)
    url = reverse("sales:deal-move", args=[deal.pk])
    for bogus in ["²", "¹²", "1e3", " ", "9" * 40]:
        response = rep_client.post(url, {"stage": bogus, "version": 1})
        assert response.status_code == 400, bogus
        assert response.json()["error"] == "That stage does not exist."
    response = rep_client.post(url, {"stage": stage("Proposal").pk, "version": "²"})
    assert response.status_code == 409  # a bad version is a missing one
    assert Deal.objects.get(pk=deal.pk).version == 1
