"""The channel × segment matrix: cost shared per recipient, conversions and ROI per cell."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketing.models import CampaignRecipient
from marketing.reports import channel_segment_matrix
from marketing.selectors import campaigns_visible_to
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    CustomerValueFactory,
    OrderFactory,
    SegmentRunFactory,
)

pytestmark = pytest.mark.django_db
URL = reverse("marketing:channel-segment-matrix")


def sent(campaign, value_segment=None, run=None, **kwargs):
    """A sent recipient; `value_segment` is their segment in `run` (not stored on the row)."""
    row = CampaignRecipientFactory(
        campaign=campaign,
        status=CampaignRecipient.Status.SENT,
        sent_at=timezone.now() - timedelta(days=3),
        **kwargs,
    )
    if value_segment:
        CustomerValueFactory(run=run, customer=row.customer, segment=value_segment)
    return row


@pytest.fixture
def data(manager):
    """Email (cost 400, 4 recipients: 2 at risk, 2 champions), SMS (cost 90, 3 at risk)."""
    run = SegmentRunFactory()
    email = CampaignFactory(channel="email", actual_cost=Decimal("400"), owner=manager)
    sms = CampaignFactory(channel="sms", budget=Decimal("90"), owner=manager, attribution_days=7)
    at_risk = [sent(email, "at_risk", run) for _i in range(2)]
    champions = [sent(email, "champions", run) for _i in range(2)]
    texted = [sent(sms, "at_risk", run) for _i in range(3)]
    OrderFactory(customer=at_risk[0].customer, total=Decimal("500.00"))
    OrderFactory(customer=texted[0].customer, total=Decimal("30.00"))
    OrderFactory(customer=texted[1].customer, total=Decimal("15.00"))
    # The same customer's order in another run's segment does not matter: only the current run.
    old = SegmentRunFactory(is_current=False)
    CustomerValueFactory(run=old, customer=champions[0].customer, segment="lost")
    CampaignRecipientFactory(campaign=email, status=CampaignRecipient.Status.QUEUED)  # unsent
    return run


def test_the_cells(data, manager):
    matrix = channel_segment_matrix(campaigns_visible_to(manager))
    email_risk = matrix.cells[("email", "at_risk")]
    assert (email_risk.sent, email_risk.cost, email_risk.conversions) == (2, Decimal("200"), 1)
    assert email_risk.revenue == Decimal("500.00")
    assert email_risk.roi == Decimal("1.5")
    champions = matrix.cells[("email", "champions")]
    assert (champions.cost, champions.conversions, champions.roi) == (Decimal("200"), 0, -1)
    sms_risk = matrix.cells[("sms", "at_risk")]
    assert (sms_risk.sent, sms_risk.cost, sms_risk.revenue) == (3, Decimal("90"), Decimal("45.00"))
    assert sms_risk.conversion_rate == Decimal(2) / 3
    assert sms_risk.roi == Decimal("-0.5")
    assert set(matrix.cells) == {("email", "at_risk"), ("email", "champions"), ("sms", "at_risk")}


def test_the_segment_at_send_time_wins_over_the_current_run(manager):
    run = SegmentRunFactory()
    campaign = CampaignFactory(actual_cost=Decimal("10"))
    row = sent(campaign, "lost", run, segment="champions")  # was a champion when sent
    OrderFactory(customer=row.customer, total=Decimal("40.00"))
    matrix = channel_segment_matrix(campaigns_visible_to(manager))
    assert set(matrix.cells) == {("email", "champions")}
    assert matrix.cells[("email", "champions")].roi == 3


def test_recipients_without_a_segment_have_their_own_row(manager):
    SegmentRunFactory()
    campaign = CampaignFactory(actual_cost=Decimal("10"))
    sent(campaign)
    matrix = channel_segment_matrix(campaigns_visible_to(manager))
    assert matrix.cells[("email", "")].cost == Decimal("10")
    assert matrix.segments()[-1][0] == ""


def test_the_page_shows_the_grid(manager_client, data):
    response = manager_client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="matrix-grid"' in html
    assert "150.0%" in html  # email × at risk
    assert "At risk" in html and "SMS" in html


def test_the_empty_state(marketer_client):
    html = marketer_client.get(URL).content.decode()
    assert "No campaign has been sent yet." in html
    assert 'id="matrix-grid"' not in html


def test_the_csv_export(manager_client, data):
    response = manager_client.get(URL, {"export": "matrix"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Channel", "Segment", "Recipients", "Cost", "Conversions", "Conversion rate",
        "Attributed revenue", "ROI",
    ]  # fmt: skip
    assert ["Email", "At risk", "2", "200.00", "1", "50.0", "500.00", "150.0"] in rows
    assert ["SMS", "At risk", "3", "90.00", "2", "66.7", "45.00", "-50.0"] in rows


def test_constant_queries_as_campaigns_grow(manager_client, data, django_assert_max_num_queries):
    manager_client.get(URL)
    for days in (7, 30):
        for _i in range(5):
            campaign = CampaignFactory(channel="phone", attribution_days=days)
            for _j in range(3):
                row = sent(campaign, "lost", data)
                OrderFactory(customer=row.customer)
    # Session, user, run, campaigns, one query per distinct window (2): not per campaign.
    with django_assert_max_num_queries(9):
        assert manager_client.get(URL).status_code == 200


@pytest.mark.parametrize("persona", ["marketer_client", "manager_client"])
def test_marketers_and_managers_see_it(request, persona):
    assert request.getfixturevalue(persona).get(URL).status_code == 200


@pytest.mark.parametrize("persona", ["rep_client", "agent_client", "nobody_client"])
def test_reps_and_agents_get_403(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"export": "matrix"}).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
