"""Sending a campaign: preview, test send, the confirmed send, its progress, the recipients
with their outcomes, and the direct-mail address file.

Marketers send their own campaigns and managers anyone's (marketing.send_campaign plus
the right to change the campaign); reps read the progress and recipients; agents nothing.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exporting import export_response
from crm.lib.forms import DateTimeInput, IdListField, reject_nul
from crm.lib.http import querystring_without
from crm.lib.params import parse_id
from crm.lib.tasks import QUEUED_UNTIL_BROKER_IS_BACK, publish_report
from customers.models import Customer
from marketing.audience import audience_count, audience_queryset, audience_sample
from marketing.audience_rule import AudienceRule
from marketing.channels import recipient_outcome_set, recipient_outcomes_set
from marketing.exports import build_mail_export
from marketing.models import Campaign, CampaignRecipient
from marketing.selectors import campaigns_visible_to, can_change_campaign, recipients_visible_to
from marketing.services.preview import preview_for, send_test
from marketing.services.scheduling import campaign_schedule
from marketing.services.sending import DELIVERED, campaign_send

RECIPIENTS_PAGE_SIZE = 50
SCHEDULE_EARLIEST, SCHEDULE_LATEST = 2000, 2200  # years a send time may name
BULK_OUTCOME_MAX = 500  # ids in one bulk post: ten pages of recipients
PREVIEW_CHOICES = 10
PREVIEW_QUERY_MAX = 100
R = CampaignRecipient.Status


class SendForm(forms.Form):
    """The confirmation: the pace of this send, and when to send it for "Schedule"
    (forms here only validate)."""

    send_rate = forms.IntegerField(
        label=gettext_lazy("Messages per minute"), min_value=1, max_value=1_000_000
    )
    send_at = forms.DateTimeField(
        label=gettext_lazy("Or send at"),
        required=False,
        widget=DateTimeInput(),
        help_text=gettext_lazy(
            "Your local time. Leave empty and press “Send now” to send at once."
        ),
    )

    def clean_send_at(self):
        value = self.cleaned_data["send_at"]
        if value is not None and not SCHEDULE_EARLIEST <= value.year <= SCHEDULE_LATEST:
            raise forms.ValidationError(_("Choose a time in the next few years."))
        return value


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=CampaignRecipient.Outcome.choices, required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=500, required=False, validators=[reject_nul]
    )


NOTE_MAX = CampaignRecipient._meta.get_field("outcome_note").max_length


class BulkOutcomeForm(forms.Form):
    """One outcome and note for the recipients ticked on the recipients page.

    "No response yet" is not offered: one wrong click must not wipe many outcomes.
    """

    selected = IdListField(
        error_messages={"required": gettext_lazy("Choose at least one recipient.")}
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=[c for c in CampaignRecipient.Outcome.choices if c[0]],
        error_messages={
            "required": gettext_lazy("Choose an outcome."),
            "invalid_choice": gettext_lazy("Choose one of the listed outcomes."),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=NOTE_MAX, required=False, validators=[reject_nul]
    )

    def clean_selected(self) -> list[int]:
        ids = list(dict.fromkeys(self.cleaned_data["selected"]))
        if len(ids) > BULK_OUTCOME_MAX:
            raise forms.ValidationError(
                _("Choose at most %(max)s recipients at a time.") % {"max": BULK_OUTCOME_MAX}
            )
        return ids


def _campaign(request, pk) -> Campaign:
    if not request.user.has_perm("marketing.view_campaign"):
        raise PermissionDenied
    return get_object_or_404(campaigns_visible_to(request.user).select_related("owner"), pk=pk)


def can_send(user, campaign: Campaign) -> bool:
    return user.has_perm("marketing.send_campaign") and can_change_campaign(user, campaign)


def _sendable(request, pk) -> Campaign:
    campaign = _campaign(request, pk)
    if not can_send(request.user, campaign):
        raise PermissionDenied
    return campaign


def _preview_customers(campaign: Campaign, query: str = "") -> list[Customer]:
    """Customers to preview: the frozen recipients once sent, else a sample of the audience;
    with a `query`, the first ones of those whose name or email contains it."""
    if query:
        return _preview_search(campaign, query)
    recipients = campaign.recipients.order_by("id").values("customer_id")[:PREVIEW_CHOICES]
    chosen = list(Customer.objects.filter(pk__in=recipients).order_by("name", "id"))
    if chosen:
        return chosen
    return audience_sample(AudienceRule.from_dict(campaign.audience), campaign.channel)


def _preview_search(campaign: Campaign, query: str) -> list[Customer]:
    """Anyone in the campaign (or, before sending, its audience) by name or email."""
    if campaign.recipients.exists():
        pool = Customer.objects.filter(pk__in=campaign.recipients.values("customer_id"))
    else:
        rule = AudienceRule.from_dict(campaign.audience)
        pool = audience_queryset(rule, channel=campaign.channel)
    found = pool.filter(Q(name__icontains=query) | Q(email__icontains=query))
    return list(found.order_by("name", "id")[:PREVIEW_CHOICES])


def _search_text(raw: str | None) -> str:
    """The preview's search box: one line, no NUL, at most PREVIEW_QUERY_MAX characters."""
    return " ".join((raw or "").replace("\x00", "").split())[:PREVIEW_QUERY_MAX]


def _preview_customer(campaign: Campaign, raw: str | None) -> Customer | None:
    """The asked-for customer if they are in the campaign (or its audience); 404 otherwise."""
    if not raw:
        return None
    customer_id = parse_id(raw)
    if customer_id is None:
        raise Http404
    in_campaign = campaign.recipients.filter(customer_id=customer_id).exists()
    if not in_campaign:
        rule = AudienceRule.from_dict(campaign.audience)
        if not audience_queryset(rule, channel=campaign.channel).filter(pk=customer_id).exists():
            raise Http404
    return Customer.objects.select_related("owner").get(pk=customer_id)


@require_GET
def campaign_preview(request, pk):
    """One recipient's subject and message (htmx); ?customer= picks another."""
    campaign = _sendable(request, pk)
    query = _search_text(request.GET.get("q"))
    choices = _preview_customers(campaign, query)
    # Typing in the search box picks its first match; choosing in the list picks that one.
    searching = request.headers.get("HX-Trigger") == "preview-search"
    customer = None if searching else _preview_customer(campaign, request.GET.get("customer"))
    if customer is None and choices:
        customer = choices[0]
    context = {
        "campaign": campaign,
        "query": query,
        "choices": choices,
        "customer": customer,
        "preview": preview_for(campaign, customer) if customer else None,
    }
    return render(request, "marketing/sending/preview.html", context)


@require_POST
def campaign_test_send(request, pk):
    """Email the previewed customer's version to the logged-in marketer."""
    campaign = _sendable(request, pk)
    customer = _preview_customer(campaign, request.POST.get("customer"))
    if customer is None:
        choices = _preview_customers(campaign)
        customer = choices[0] if choices else None
    if customer is None:
        messages.error(request, _("Nobody in the audience to preview the test with."))
        return redirect(campaign)
    try:
        queued = send_test(campaign=campaign, customer=customer, to=request.user.email)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        queued.refresh_from_db(fields=["status"])  # delivered already when tasks run inline
        address = {"address": request.user.email}
        if queued.status == queued.Status.SENT:
            messages.success(request, _("Test sent to %(address)s.") % address)
        else:
            messages.warning(
                request,
                _("Test to %(address)s queued; it will be retried until it is delivered.")
                % address,
            )
    return redirect(campaign)


@require_http_methods(["GET", "POST"])
def campaign_send_view(request, pk):
    """Confirm with the audience count, then freeze the audience and start delivery."""
    campaign = _sendable(request, pk)
    form = SendForm(request.POST or None, initial={"send_rate": campaign.send_rate})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if "schedule" in request.POST:
                done = _schedule(request, campaign, form)
            else:
                done = _send_now(request, campaign, form)
            if done:
                return redirect(campaign)
        status = 422
    context = {
        "campaign": campaign,
        "form": form,
        "count": audience_count(campaign.audience, campaign.channel),
        "paced": campaign.channel in DELIVERED,
        "sendable": campaign.is_editable,
    }
    return render(request, "marketing/sending/confirm.html", context, status=status)


def _send_now(request, campaign: Campaign, form: SendForm) -> bool:
    try:
        with publish_report() as report:
            added = campaign_send(
                campaign=campaign, by=request.user, rate=form.cleaned_data["send_rate"]
            )
    except ValidationError as error:
        form.add_error(None, error.messages)
        return False
    messages.success(request, _("Campaign sent to %(count)s new recipients.") % {"count": added})
    if report.failed:  # the sending sweep starts it when the broker is back
        messages.warning(request, QUEUED_UNTIL_BROKER_IS_BACK)
    return True


def _schedule(request, campaign: Campaign, form: SendForm) -> bool:
    send_at = form.cleaned_data["send_at"]
    if send_at is None:
        form.add_error("send_at", _("Choose when to send it."))
        return False
    try:
        campaign_schedule(
            campaign=campaign, by=request.user, send_at=send_at, rate=form.cleaned_data["send_rate"]
        )
    except ValidationError as error:
        # A refusal of the campaign as a whole (NotSendable) has no fields.
        by_field = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for field, errors in by_field.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    when = date_format(timezone.localtime(send_at), "SHORT_DATETIME_FORMAT")
    messages.success(
        request, _("Campaign scheduled: it will be sent at %(when)s.") % {"when": when}
    )
    return True


def status_counts(campaign: Campaign) -> dict[str, int]:
    rows = campaign.recipients.order_by().values_list("status").annotate(n=Count("id"))
    return dict(rows)


@require_GET
def campaign_send_progress(request, pk):
    """Queued / sent / failed counts, polled while the campaign is running."""
    campaign = _campaign(request, pk)
    counts = status_counts(campaign)
    total = sum(counts.values())
    done = total - counts.get(R.QUEUED, 0) - counts.get(R.SENDING, 0)
    if request.GET.get("poll") and campaign.status != Campaign.Status.RUNNING:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # sending ended: reload the page's other figures
        return response
    context = {
        "campaign": campaign,
        "rows": [(s.value, s.label, counts.get(s.value, 0)) for s in R],
        "total": total,
        "percent": round(100 * done / total) if total else 0,
        "running": campaign.status == Campaign.Status.RUNNING,
    }
    return render(request, "marketing/sending/progress.html", context)


SORTS = {
    "name": ("customer__name", "id"),
    "-name": ("-customer__name", "-id"),
    "status": ("status", "id"),
    "sent": ("sent_at", "id"),
    "-sent": ("-sent_at", "-id"),
}


@require_GET
def campaign_recipients(request, pk):
    """The recipients, filtered by status, sorted and paginated, with an outcome form each."""
    campaign = _campaign(request, pk)
    rows = recipients_visible_to(request.user).filter(campaign=campaign)
    status = request.GET.get("status", "")
    if status in R.values:
        rows = rows.filter(status=status)
    sort = request.GET.get("sort", "name")
    rows = rows.select_related("customer").order_by(*SORTS.get(sort, SORTS["name"]))
    page = Paginator(rows, RECIPIENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "campaign": campaign,
        "page": page,
        "query": querystring_without(request.GET, "page"),
        "here": _recipients_query(request.GET),
        "status": status,
        "sort": sort,
        "statuses": R.choices,
        "outcomes": CampaignRecipient.Outcome.choices,
        "bulk_outcomes": BulkOutcomeForm.base_fields["outcome"].choices,
        "note_max": NOTE_MAX,
        "can_record": _can_record(request.user, campaign),
    }
    # htmx loads the list into the campaign's page; a plain request (the bulk form's
    # redirect, or no JavaScript) gets it as a page of its own.
    template = "recipients.html" if request.htmx else "recipients_page.html"
    return render(request, f"marketing/sending/{template}", context)


def _recipients_query(params) -> str:
    """The recipients list's filter, sort and page from `params`, only when well-formed."""
    kept = []
    if params.get("status", "") in R.values:
        kept.append(("status", params["status"]))
    if params.get("sort", "") in SORTS:
        kept.append(("sort", params["sort"]))
    page = parse_id(params.get("page"))
    if page is not None and page < 10**6:
        kept.append(("page", str(page)))
    return urlencode(kept)


def _can_record(user, campaign: Campaign) -> bool:
    return user.has_perm("marketing.change_campaignrecipient") and can_change_campaign(
        user, campaign
    )


@require_POST
def recipient_outcome(request, pk):
    """Record one recipient's outcome (a small form per row, posted with htmx)."""
    recipient = get_object_or_404(
        recipients_visible_to(request.user).select_related("campaign", "customer"), pk=pk
    )
    if not _can_record(request.user, recipient.campaign):
        raise PermissionDenied
    form = OutcomeForm(request.POST)
    status = 200
    if form.is_valid():
        recipient_outcome_set(
            recipient=recipient,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"].strip(),
        )
        recipient.refresh_from_db()
    else:
        status = 422
    if not request.headers.get("HX-Request"):
        if status == 200:
            messages.success(request, _("Outcome recorded."))
        else:
            messages.error(request, _("The outcome was not recorded: check the note."))
        return redirect(recipient.campaign)
    context = {
        "row": recipient,
        "campaign": recipient.campaign,
        "form": form,
        "outcomes": CampaignRecipient.Outcome.choices,
        "can_record": True,
    }
    return render(request, "marketing/sending/recipient_row.html", context, status=status)


@require_POST
def recipient_outcome_bulk(request, pk):
    """Record one outcome for the recipients ticked on a page of the list (a plain POST),
    then go back to that page with its filter and sort."""
    campaign = _campaign(request, pk)
    if not _can_record(request.user, campaign):
        raise PermissionDenied
    back = reverse("marketing:campaign-recipients", args=[campaign.pk])
    query = _recipients_query(request.GET)
    back = f"{back}?{query}" if query else back
    form = BulkOutcomeForm(request.POST)
    if not form.is_valid():
        errors = [error for field in form.errors.values() for error in field]
        messages.error(
            request,
            _("The outcome was not recorded: %(errors)s") % {"errors": " ".join(errors)},
        )
        return redirect(back)
    visible = recipients_visible_to(request.user).filter(
        campaign=campaign, pk__in=form.cleaned_data["selected"]
    )
    count = recipient_outcomes_set(
        campaign=campaign,
        recipient_ids=visible.values_list("pk", flat=True),
        outcome=form.cleaned_data["outcome"],
        note=form.cleaned_data["note"].strip(),
    )
    if count:
        messages.success(
            request,
            ngettext(
                "Outcome recorded for %(count)s recipient.",
                "Outcome recorded for %(count)s recipients.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.error(request, _("None of the chosen recipients is in this campaign."))
    return redirect(back)


@require_GET
def campaign_mail_export(request, pk):
    """The direct-mail address file (marketing.exports), audited; large ones in the
    background."""
    _campaign(request, pk)  # 403 without the permission, 404 for a campaign not visible
    return export_response(request, build_mail_export(request.user, QueryDict(f"campaign={pk}")))
