"""Reads with the access rules: marketers and managers work campaigns, reps read them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from customers.models import Customer
from marketing.lead_form_link import campaign_id_from_token
from marketing.models import Campaign, CampaignRecipient, LoyaltyEntry


def campaigns_visible_to(user: User | AnonymousUser) -> QuerySet[Campaign]:
    if not user.has_perm("marketing.view_campaign"):
        return Campaign.objects.none()
    return Campaign.objects.all()


def campaign_from_token(token: str) -> Campaign | None:
    """The campaign of a public lead form link (marketing.lead_form_link), if any."""
    pk = campaign_id_from_token(token)
    return None if pk is None else Campaign.objects.filter(pk=pk).first()


def can_change_campaign(user: User | AnonymousUser, campaign: Campaign) -> bool:
    """Marketers change their own campaigns; managers anyone's."""
    if user.has_perm("marketing.change_any_campaign"):
        return True
    return user.has_perm("marketing.change_campaign") and campaign.owner_id == user.pk


def campaign_owners_for(user: User | AnonymousUser, current: User | None = None) -> QuerySet[User]:
    """Who this user may make a campaign's owner: managers any marketer, others themselves.

    A campaign's `current` owner stays selectable whoever edits it.
    """
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    keep = Q(pk=user.pk) | (Q(pk=current.pk) if current is not None else Q(pk__in=[]))
    if not user.has_perm("marketing.change_any_campaign"):
        return users.filter(keep)
    marketers = get_user_model().objects.filter(
        Q(groups__permissions__codename="add_campaign") | Q(is_superuser=True)
    )
    return users.filter(Q(pk__in=marketers.values("pk")) | keep)


def recipients_visible_to(user: User | AnonymousUser) -> QuerySet[CampaignRecipient]:
    if not user.has_perm("marketing.view_campaignrecipient"):
        return CampaignRecipient.objects.none()
    return CampaignRecipient.objects.filter(campaign__in=campaigns_visible_to(user))


def loyalty_entries_for(user: User | AnonymousUser, customer: Customer) -> QuerySet[LoyaltyEntry]:
    if not user.has_perm("marketing.view_loyaltyentry"):
        return LoyaltyEntry.objects.none()
    return LoyaltyEntry.objects.filter(customer=customer).select_related("created_by", "order")
