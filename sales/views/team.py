"""The manager's team view (a home panel), the quota page, and the deal page's quick
actions: set the next step, log an activity."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.lib.http import AuthenticatedHttpRequest
from customers.forms import InteractionForm
from customers.selectors import can_work_customer
from sales.models import Quota
from sales.selectors import deal_scope, deal_timeline
from sales.team import team_reps, team_view
from sales.team_charts import team_chart
from sales.team_forms import (
    MonthForm,
    NextStepForm,
    QuotaForm,
    deal_work_forms,
    quota_field_name,
)
from sales.team_services import deal_log_activity, deal_set_next_step, quotas_set
from sales.views.deals import _changeable_deal, deal_page_context

TEAM_PANEL = "sales/partials/team_panel.html"
DEAL_WORK = "sales/partials/deal_work.html"


@permission_required("sales.view_any_deal", raise_exception=True)
def team_panel(request: HttpRequest) -> HttpResponse:
    return render(request, TEAM_PANEL, team_context(request, None))


def team_context(request: HttpRequest, _page_object=None) -> dict[str, Any]:
    """The manager's home: per rep, the month's forecast against quota and this week's work."""
    month = MonthForm(request.GET).chosen_month()
    team = team_view(deal_scope(request.user), month=month)
    return {
        "team": team,
        "chart": team_chart(team),
        "can_set_quotas": request.user.has_perm("sales.change_quota"),
        "month_param": f"{month:%Y-%m}",
    }


@permission_required("sales.change_quota", raise_exception=True)
@require_http_methods(["GET", "POST"])
def quota_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Managers set each rep's quota for a month, in the reporting currency."""
    reps = list(team_reps())
    if request.method == "POST":
        form = QuotaForm(request.POST, reps=reps)
        if form.is_valid():
            month = form.cleaned_data["month"]
            changed = quotas_set(month=month, amounts=form.amounts(), set_by=request.user)
            messages.success(request, _("Quotas saved (%(count)d changed).") % {"count": changed})
            return redirect(f"{reverse('sales:quotas')}?month={month:%Y-%m}")
        month = form.cleaned_data.get("month") or timezone.localdate().replace(day=1)
        status = 422
    else:
        month = MonthForm(request.GET).chosen_month()
        current = dict(Quota.objects.filter(month=month).values_list("owner_id", "amount"))
        initial = {quota_field_name(rep): current.get(rep.pk) for rep in reps}
        form = QuotaForm(initial={"month": month, **initial}, reps=reps)
        status = 200
    context = {
        "form": form,
        "month": month,
        "month_form": MonthForm(initial={"month": month}),
        "currency": Quota().currency,
    }
    return render(request, "sales/quotas.html", context, status=status)


def _deal_actions_response(request, deal, *, status=200, **forms):
    """htmx gets the refreshed next step, forms and timeline; a plain post goes back to the
    deal, or shows the deal page with the form's errors."""
    if not request.htmx:
        if status == 200:
            return redirect(deal)
        return render(
            request,
            "sales/deal_detail.html",
            deal_page_context(request, deal, **forms),
            status=status,
        )
    context = {
        "deal": deal,
        "can_change": True,
        "today": timezone.localdate(),
        "timeline": deal_timeline(deal),
        **deal_work_forms(deal, **forms),
    }
    return render(request, DEAL_WORK, context, status=status)


def _workable_deal(request: AuthenticatedHttpRequest, pk: int):
    """A deal the user may change, on a customer they may work on: both actions add a task
    or an interaction to the customer, as the customer's own page would."""
    deal = _changeable_deal(request, pk)
    if not can_work_customer(request.user, deal.customer):
        raise PermissionDenied
    return deal


@require_POST
def deal_next_step_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    deal = _workable_deal(request, pk)
    form = NextStepForm(request.POST)
    if not form.is_valid():
        return _deal_actions_response(request, deal, next_step_form=form, status=422)
    try:
        deal_set_next_step(deal=deal, set_by=request.user, **form.cleaned_data)
    except ValidationError as error:  # the deal itself is invalid, e.g. its stored currency
        form.add_error(None, error.messages)
        return _deal_actions_response(request, deal, next_step_form=form, status=422)
    messages.success(request, _("Next step set."))
    response = _deal_actions_response(request, deal)
    response["HX-Trigger"] = "tasksChanged"  # the task badge in the navigation
    return response


@require_POST
def deal_activity_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    deal = _workable_deal(request, pk)
    form = InteractionForm(request.POST, customer=deal.customer)
    if not form.is_valid():
        return _deal_actions_response(request, deal, activity_form=form, status=422)
    deal_log_activity(deal=deal, logged_by=request.user, **form.cleaned_data)
    messages.success(request, _("Activity logged."))
    return _deal_actions_response(request, deal)
