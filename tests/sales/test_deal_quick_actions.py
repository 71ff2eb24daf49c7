"""Setting the next step and logging an activity from the deal page (issue 16), with htmx
and without, through the customers app's services."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from customers.models import Interaction, Task
from sales.models import Deal
from tests.factories import CustomerFactory, DealFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deal(rep):
    stale_since = timezone.now() - timedelta(days=settings.CRM_STALE_DEAL_DAYS + 5)
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep))
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=stale_since)
    deal.refresh_from_db()
    return deal


def test_the_deal_page_offers_both_forms_to_who_may_change_it(deal, rep_client, rep2_client):
    page = rep_client.get(deal.get_absolute_url()).content.decode()
    assert 'id="next-step-form"' in page and 'id="activity-form"' in page
    assert rep2_client.get(deal.get_absolute_url()).status_code == 404


def test_set_the_next_step_with_htmx(deal, rep, rep_client):
    due = timezone.localdate() + timedelta(days=3)
    url = reverse("sales:deal-next-step", args=[deal.pk])
    response = rep_client.post(url, {"title": "Send the contract", "due_date": due}, **HTMX)
    assert response.status_code == 200
    assert "Send the contract" in response.content.decode()
    assert 'id="deal-work"' in response.content.decode()
    deal.refresh_from_db()
    task = Task.objects.get()
    assert deal.next_step == task
    assert (task.assignee, task.customer, task.due_date, task.created_by) == (
        rep,
        deal.customer,
        due,
        rep,
    )
    assert deal.version == 2
    assert deal.last_activity_at > timezone.now() - timedelta(minutes=1)


def test_log_an_activity_with_htmx_and_the_deal_is_no_longer_stale(deal, rep, rep_client):
    url = reverse("sales:deal-activity", args=[deal.pk])
    data = {"channel": "phone", "direction": "out", "summary": "Called about the price",
            "occurred_at": "2026-01-05T10:00"}  # fmt: skip
    response = rep_client.post(url, data, **HTMX)
    assert response.status_code == 200
    assert "Called about the price" in response.content.decode()
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.logged_by) == (deal.customer, rep)
    deal.refresh_from_db()
    assert deal.last_activity_at > timezone.now() - timedelta(minutes=1)
    assert deal.version == 1  # an edit form open elsewhere stays valid
    assert 'id="stale-flag"' not in rep_client.get(deal.get_absolute_url()).content.decode()


def test_without_htmx_the_forms_go_back_to_the_deal(deal, rep_client):
    url = reverse("sales:deal-activity", args=[deal.pk])
    response = rep_client.post(
        url,
        {"channel": "email", "direction": "in", "summary": "Hi", "occurred_at": "2026-01-05T10:00"},
    )
    assert response.status_code == 302
    assert response["Location"] == deal.get_absolute_url()


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "due_date": "2026-01-01"},
        {"title": "x", "due_date": "2026-02-31"},
        {"title": "x\x00", "due_date": "2026-01-01"},
        {"title": "x", "due_date": "99999-01-01"},
        {"title": "x" * 201, "due_date": "2026-01-01"},
    ],
)
def test_bad_next_steps_are_refused(deal, rep_client, data):
    url = reverse("sales:deal-next-step", args=[deal.pk])
    assert rep_client.post(url, data, **HTMX).status_code == 422
    assert rep_client.post(url, data).status_code == 422
    assert not Task.objects.exists()


def test_a_bad_activity_is_refused(deal, rep_client):
    url = reverse("sales:deal-activity", args=[deal.pk])
    data = {"channel": "pigeon", "direction": "out", "summary": ""}
    assert rep_client.post(url, data, **HTMX).status_code == 422
    assert not Interaction.objects.exists()


def test_others_cannot_act_on_a_deal(deal, rep2_client, agent_client, marketer_client):
    for client in (rep2_client, agent_client, marketer_client):
        for name in ("sales:deal-next-step", "sales:deal-activity"):
            response = client.post(reverse(name, args=[deal.pk]), {"title": "x"}, **HTMX)
            assert response.status_code in (403, 404)
    assert not Task.objects.exists() and not Interaction.objects.exists()


def test_a_manager_may_act_on_any_deal(deal, rep, manager_client):
    url = reverse("sales:deal-next-step", args=[deal.pk])
    due = timezone.localdate()
    assert manager_client.post(url, {"title": "Visit", "due_date": due}, **HTMX).status_code == 200
    assert Task.objects.get().assignee == rep


def test_a_rep_may_not_add_work_to_another_reps_customer_through_their_own_deal(
    rep, rep2, rep2_client
):
    """The deal is rep2's, the customer rep1's: the customer's page would refuse rep2."""
    deal = DealFactory(owner=rep2, customer=CustomerFactory(owner=rep))
    due = timezone.localdate() + timedelta(days=3)
    next_step = reverse("sales:deal-next-step", args=[deal.pk])
    activity = reverse("sales:deal-activity", args=[deal.pk])
    assert rep2_client.post(next_step, {"title": "Call", "due_date": due}).status_code == 403
    posted = {"channel": "phone", "direction": "outbound", "summary": "Hi"}
    assert rep2_client.post(activity, posted).status_code == 403
    assert not Task.objects.filter(customer=deal.customer).exists()
    assert not Interaction.objects.filter(customer=deal.customer).exists()
