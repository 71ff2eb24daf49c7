"""Reads with the access rules: marketers and managers work campaigns, reps read them."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet

from customers.models import Customer
from marketing.lead_form_link import (
    LEAD_CONFIRM_MAX_AGE,
    campaign_id_from_token,
    lead_from_confirm_token,
)
from marketing.models import Campaign, CampaignRecipient, LeadSubmission, LoyaltyEntry


def campaigns_visible_to(user: User | AnonymousUser) -> QuerySet[Campaign]:
    if not user.has_perm("marketing.view_campaign"):
        return Campaign.objects.none()
    return Campaign.objects.all()


def campaign_from_token(token: str) -> Campaign | None:
    """The campaign of a public lead form link (marketing.lead_form_link), if any."""
    pk = campaign_id_from_token(token)
    return None if pk is None else Campaign.objects.filter(pk=pk).first()


def lead_from_token(token: str) -> LeadSubmission | None:
    """The submission a confirmation link names (its address unchanged since), if any."""
    value = lead_from_confirm_token(token)
    if value is None:
        return None
    pk, email = value
    submission = LeadSubmission.objects.select_related("campaign").filter(pk=pk).first()
    if submission is None or submission.email.lower() != email:
        return None
    return submission


LATEST_LEADS = 10


def lead_summary(campaign: Campaign, *, now: datetime) -> dict:
    """The lead form's submissions for the campaign page: counts and the latest few.

    Pending rows wait for the visitor's click; their link dies after LEAD_CONFIRM_MAX_AGE
    (the row is then "expired" until the nightly purge deletes it).
    """
    leads = LeadSubmission.objects.filter(campaign=campaign)
    cutoff = now - LEAD_CONFIRM_MAX_AGE
    counts = leads.aggregate(
        confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
        pending=Count("pk", filter=Q(confirmed_at__isnull=True, submitted_at__gte=cutoff)),
        expired=Count("pk", filter=Q(confirmed_at__isnull=True, submitted_at__lt=cutoff)),
    )
    latest = list(leads.select_related("customer").order_by("-submitted_at", "-pk")[:LATEST_LEADS])
    return {**counts, "latest": latest}


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
