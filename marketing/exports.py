"""A mail campaign's address file (registered with crm.lib.exports): names, postal addresses
and coupon codes of its recipients, for whoever may record the campaign's outcomes."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from crm.lib.exports import ExportSource, ExportTable, register_export
from crm.lib.params import IdField, query_param
from marketing.channels import mail_rows
from marketing.models import Campaign, CampaignChannel, CampaignRecipient
from marketing.selectors import campaigns_visible_to, can_change_campaign

SOURCE = "campaign-mail"


def may_export_mail(user: User | AnonymousUser, campaign: Campaign) -> bool:
    return user.has_perm("marketing.change_campaignrecipient") and can_change_campaign(
        user, campaign
    )


def build_mail_export(user: User | AnonymousUser, params: QueryDict) -> ExportTable:
    pk = query_param(params, "campaign", IdField())
    campaign = campaigns_visible_to(user).filter(pk=pk).first() if pk else None
    if campaign is None or campaign.channel != CampaignChannel.MAIL:
        raise Http404
    if not may_export_mail(user, campaign):
        raise PermissionDenied
    return ExportTable(
        source=SOURCE,
        filename=f"campaign-{campaign.pk}-mail.csv",
        model=CampaignRecipient,
        params=params,
        count=CampaignRecipient.objects.filter(campaign=campaign).count,
        lines=lambda: mail_rows(campaign),
        detail={"campaign": campaign.pk},
        # Without a byte order mark: mail-merge and printing software reads plain UTF-8.
        bom=False,
        content_type="text/csv",
    )


def register_mail_export() -> None:
    register_export(ExportSource(SOURCE, _("Mail campaign addresses"), build_mail_export))
