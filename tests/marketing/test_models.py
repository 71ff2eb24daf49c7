"""Model rules that hold whatever writes the row (admin, services, the database)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from marketing.models import Campaign, LoyaltyTier
from tests.factories import CampaignFactory, CampaignRecipientFactory

pytestmark = pytest.mark.django_db


def test_clean_validates_and_normalises_the_audience_and_the_dates():
    campaign = CampaignFactory.build(
        owner=CampaignFactory().owner, audience={"segments": ["lost", "at_risk"], "ltv_min": 5},
        coupon_prefix="spr",
    )  # fmt: skip
    campaign.full_clean()
    assert campaign.audience == {"segments": ["at_risk", "lost"], "ltv_min": "5.00"}
    assert campaign.coupon_prefix == "SPR"
    campaign.audience = {"segments": ["nobody"]}
    campaign.starts_on, campaign.ends_on = date(2030, 1, 2), date(2030, 1, 1)
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert set(error.value.message_dict) == {"audience", "ends_on"}


def test_the_database_refuses_negative_money_and_crossed_dates():
    campaign = CampaignFactory()
    for change in ({"budget": Decimal("-1")}, {"actual_cost": Decimal("-0.01")},
                   {"starts_on": date(2030, 1, 2), "ends_on": date(2030, 1, 1)}):  # fmt: skip
        with pytest.raises(IntegrityError), transaction.atomic():
            Campaign.objects.filter(pk=campaign.pk).update(**change)


def test_a_customer_is_in_a_campaign_once():
    recipient = CampaignRecipientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignRecipientFactory(campaign=recipient.campaign, customer=recipient.customer)
    other = CampaignRecipientFactory(customer=recipient.customer)  # another campaign is fine
    assert other.customer == recipient.customer


def test_a_tier_needs_a_threshold():
    with pytest.raises(ValidationError):
        LoyaltyTier(name="Platinum", rank=9).full_clean()
    LoyaltyTier(name="Platinum", rank=9, minimum_spend=Decimal("20000")).full_clean()
