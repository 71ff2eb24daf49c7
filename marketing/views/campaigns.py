"""Campaigns: list, detail, create, edit, and the audience's live count and sample."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from analytics.models import CustomerValue, Segment
from analytics.selectors import current_run
from crm.lib.concurrency import ConcurrentEditError, form_after_conflict
from crm.lib.http import querystring_without
from customers.models import Customer, Tag
from marketing.audience import audience_count, audience_sample
from marketing.audience_rule import AudienceRule
from marketing.filters import CampaignFilter
from marketing.forms import AudienceForm, CampaignForm, audience_initial
from marketing.lead_questions import frame_height_rem
from marketing.models import Campaign, CampaignRecipient, LoyaltyTier
from marketing.reports import display, figures_by_campaign, roi_text
from marketing.selectors import (
    campaign_owners_for,
    campaigns_visible_to,
    can_change_campaign,
    lead_summary,
)
from marketing.services.campaigns import CAMPAIGN_FIELDS, campaign_create, campaign_update
from marketing.services.subject_tests import subject_test_summary

PAGE_SIZE = 25
SAMPLE_SIZE = 10


@permission_required("marketing.view_campaign", raise_exception=True)
def campaign_list(request):
    campaign_filter = CampaignFilter(
        request.GET, queryset=campaigns_visible_to(request.user), request=request
    )
    campaigns = campaign_filter.qs.select_related("owner")
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": campaign_filter,
        "page": page,
        "rows": _with_results(list(page.object_list)),
        "query": querystring_without(request.GET, "page"),
    }
    return render(request, "marketing/campaign_list.html", context)


def _with_results(campaigns: list[Campaign]) -> list[tuple[Campaign, dict | None]]:
    """Each campaign of the page with its ROI and delivery feedback (rates per recipient
    sent) once something was sent (a draft has none)."""
    figures = figures_by_campaign(campaigns)
    rows: list[tuple[Campaign, dict | None]] = []
    for campaign in campaigns:
        result = figures[campaign.pk]
        shown = {
            "roi": roi_text(result.roi),
            "small": result.small_sample,
            "sent": display("int", result.sent),
            "bounced": display("percent", result.bounce_rate),
            "opened": display("percent", result.open_rate),
            "clicked": display("percent", result.click_rate),
        }
        rows.append((campaign, shown if result.sent else None))
    return rows


def _visible_campaign(request, pk) -> Campaign:
    if not request.user.has_perm("marketing.view_campaign"):
        raise PermissionDenied
    return get_object_or_404(campaigns_visible_to(request.user).select_related("owner"), pk=pk)


@permission_required("marketing.view_campaign", raise_exception=True)
def campaign_detail(request, pk):
    campaign = _visible_campaign(request, pk)
    statuses = dict(
        CampaignRecipient.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    can_change = can_change_campaign(request.user, campaign)
    context = {
        "campaign": campaign,
        "criteria": describe_rule(AudienceRule.from_dict(campaign.audience)),
        "recipient_counts": [(s.label, statuses.get(s.value, 0)) for s in CampaignRecipient.Status],
        # Recipients exist only once the audience was frozen: then it was sent, whatever
        # the timestamps say (rows written by an import or an older version have none).
        "was_sent": bool(campaign.send_started_at or sum(statuses.values())),
        "lead_form_open": campaign.lead_form_open(timezone.localdate()),
        "lead_frame_height": frame_height_rem(campaign.form_questions),
        "can_change": can_change,
        "leads": lead_summary(campaign, now=timezone.now()) if can_change else None,
        "subject_test": subject_test_summary(campaign),
        "editable_statuses": Campaign.EDITABLE_STATUSES,
        "currency": settings.CRM_CURRENCY,  # budget and cost are in the reporting currency
    }
    return render(request, "marketing/campaign_detail.html", context)


def describe_rule(rule: AudienceRule) -> list[tuple[str, str]]:
    """The rule as (criterion, value) lines for people."""
    segments = dict(Segment.choices)
    stages = dict(Customer.Stage.choices)
    lines = []
    if rule.segments:
        lines.append((_("Segments"), ", ".join(str(segments[s]) for s in rule.segments)))
    if rule.stages:
        lines.append((_("Lifecycle stages"), ", ".join(str(stages[s]) for s in rule.stages)))
    if rule.tags:
        names = Tag.objects.filter(pk__in=rule.tags).order_by("name").values_list("name", flat=True)
        lines.append((_("Tags"), ", ".join(names) or _("(deleted tags)")))
    if rule.regions:
        lines.append((_("Regions"), ", ".join(rule.regions)))
    if rule.key_accounts_only:
        lines.append((_("Key accounts"), _("only")))
    if rule.ltv_min is not None or rule.ltv_max is not None:
        lines.append((_("Predicted value"), _range(rule.ltv_min, rule.ltv_max)))
    if rule.alive_min is not None or rule.alive_max is not None:
        low = None if rule.alive_min is None else f"{rule.alive_min:.0%}"
        high = None if rule.alive_max is None else f"{rule.alive_max:.0%}"
        lines.append((_("Probability alive"), _range(low, high)))
    if rule.purchased_within_days:
        lines.append(
            (_("Last purchase"), _("within %(days)s days") % {"days": rule.purchased_within_days})
        )
    if rule.points_min:
        lines.append((_("Loyalty points"), _("at least %(points)s") % {"points": rule.points_min}))
    if rule.tiers:
        tier_names = [str(tier) for tier in LoyaltyTier.objects.filter(pk__in=rule.tiers)]
        lines.append((_("Loyalty tiers"), ", ".join(tier_names) or _("(deleted tiers)")))
    return lines


def _range(low, high) -> str:
    if low is not None and high is not None:
        return f"{low} – {high}"
    if low is not None:
        return _("from %(value)s") % {"value": low}
    return _("up to %(value)s") % {"value": high}


def _audience_context(rule: AudienceRule, channel: str) -> dict:
    count = audience_count(rule, channel)
    sample = audience_sample(rule, channel, n=SAMPLE_SIZE) if count else []
    run = current_run()
    segments = {}
    if run is not None and sample:
        values = CustomerValue.objects.filter(run=run, customer__in=[c.pk for c in sample])
        labels = dict(Segment.choices)
        segments = {
            cid: labels.get(seg, seg) for cid, seg in values.values_list("customer_id", "segment")
        }
    rows = [(customer, segments.get(customer.pk, "")) for customer in sample]
    return {
        "count": count,
        "rows": rows,
        "run": run,
        "needs_run": rule.uses_analytics and run is None,
    }


@permission_required("marketing.view_campaign", raise_exception=True)
def campaign_audience(request, pk):
    """The stored audience's count and sample (loaded into the detail page)."""
    campaign = _visible_campaign(request, pk)
    context = _audience_context(AudienceRule.from_dict(campaign.audience), campaign.channel)
    return render(request, "marketing/partials/audience_preview.html", context)


@require_POST
def audience_preview(request):
    """The live count while the form is edited (htmx posts the form on every change)."""
    if not (
        request.user.has_perm("marketing.add_campaign")
        or request.user.has_perm("marketing.change_campaign")
    ):
        raise PermissionDenied
    form = AudienceForm(request.POST)
    if not form.is_valid():
        context = {"errors": [e for errors in form.errors.values() for e in errors]}
        return render(request, "marketing/partials/audience_preview.html", context)
    context = _audience_context(form.cleaned_data["rule"], form.cleaned_data["channel"])
    return render(request, "marketing/partials/audience_preview.html", context)


@permission_required("marketing.add_campaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_create_view(request):
    form = CampaignForm(
        request.POST or None,
        owners=campaign_owners_for(request.user),
        initial={"owner": request.user, "status": Campaign.Status.DRAFT},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                campaign = campaign_create(
                    owner=form.cleaned_data["owner"],
                    data=form.campaign_data(),
                    status=form.cleaned_data["status"],
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, _("Campaign “%(name)s” created.") % {"name": campaign.name}
                )
                return redirect(campaign)
        status = 422
    context = {"form": form, "campaign": None}
    return render(request, "marketing/campaign_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def campaign_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _visible_campaign(request, pk)
    if not can_change_campaign(request.user, campaign):
        raise PermissionDenied
    owners = campaign_owners_for(request.user, current=campaign.owner)

    def bound_form(data: QueryDict | None, saved: Campaign) -> CampaignForm:
        return CampaignForm(data, owners=owners, campaign=saved, initial=_initial(saved))

    form = bound_form(request.POST or None, campaign)
    status = 200
    conflicts = None
    if request.method == "POST":
        if form.is_valid():
            try:
                campaign_update(
                    campaign=campaign,
                    expected_version=form.cleaned_data.get("version"),
                    data=form.campaign_data(),
                    status=form.cleaned_data["status"],
                    owner=form.cleaned_data["owner"],
                )
            except ConcurrentEditError as error:
                form, conflicts = form_after_conflict(error, posted=request.POST, bind=bound_form)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, _("Changes to “%(name)s” saved.") % {"name": form.cleaned_data["name"]}
                )
                return redirect("marketing:campaign-detail", pk=pk)
        status = 422
    context = {"form": form, "campaign": campaign, "conflicts": conflicts}
    return render(request, "marketing/campaign_form.html", context, status=status)


def _initial(campaign: Campaign) -> dict:
    """The edit form's values of the saved campaign."""
    return {
        **{key: getattr(campaign, key) for key in CAMPAIGN_FIELDS if key != "audience"},
        **audience_initial(campaign),
        "form_questions": "\n".join(campaign.form_questions),
        "status": campaign.status,
        "owner": campaign.owner_id,
        "version": campaign.version,
    }


def _add_errors(form, error: ValidationError) -> None:
    """A service's errors next to their field when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
