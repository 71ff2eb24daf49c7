"""Deal list, export, detail, create, edit, win and lose."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.attachments import attachment_panel
from core.exchange import RateBook
from core.exporting import export_response
from crm.lib.concurrency import ConcurrentEditError, form_after_conflict
from crm.lib.http import AuthenticatedHttpRequest, querystring_without
from crm.lib.params import parse_id
from customers.models import Customer
from customers.selectors import can_work_customer, customers_visible_to
from sales.converted import deal_in_reporting, merge_currencies, weighted_amount
from sales.deal_totals import OpenDealTotal
from sales.exports import build_deal_export
from sales.filters import DealFilter
from sales.forms import DealForm, LoseForm, WinForm
from sales.models import Deal
from sales.money import totals
from sales.selectors import (
    accepted_quote,
    can_change_deal,
    deal_owner_choices,
    deal_timeline,
    deals_visible_to,
    default_pipeline,
    is_stale,
    stale_deal_condition,
    with_stale_flag,
)
from sales.services import DealRuleError, deal_create, deal_lose, deal_update, deal_win
from sales.team_forms import deal_work_forms

PAGE_SIZE = 25


def _filtered(request) -> DealFilter:
    return DealFilter(request.GET, queryset=deals_visible_to(request.user), request=request)


@permission_required("sales.view_deal", raise_exception=True)
def deal_list(request):
    deal_filter = _filtered(request)
    deals = with_stale_flag(deal_filter.qs.select_related("customer", "owner", "stage"))
    page = Paginator(deals, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": deal_filter,
        "page": page,
        "query": querystring_without(request.GET, "page"),
        "sort_query": querystring_without(request.GET, "page", "sort"),
    }
    return render(request, "sales/deal_list.html", context)


@permission_required("sales.view_deal", raise_exception=True)
def deal_export(request):
    """The filtered list as CSV (sales.exports), audited; large ones in the background."""
    return export_response(request, build_deal_export(request.user, request.GET))


def _visible_deal(request, pk) -> Deal:
    """The deal if the user may see it: 403 without the permission, 404 for others' deals."""
    if not request.user.has_perm("sales.view_deal"):
        raise PermissionDenied
    return get_object_or_404(
        deals_visible_to(request.user).select_related(
            "customer", "contact", "owner", "stage", "pipeline", "next_step"
        ),
        pk=pk,
    )


def _changeable_deal(request, pk) -> Deal:
    deal = _visible_deal(request, pk)
    if not can_change_deal(request.user, deal):
        raise PermissionDenied
    return deal


def deal_detail(request, pk):
    deal = _visible_deal(request, pk)
    return render(request, "sales/deal_detail.html", deal_page_context(request, deal))


def deal_page_context(request, deal: Deal, **forms: Any) -> dict[str, Any]:
    """The deal page's context; `forms` replace the next-step and activity forms (with errors)."""
    can_change = can_change_deal(request.user, deal)
    return {
        "deal": deal,
        "timeline": deal_timeline(deal),
        "stale": is_stale(deal),
        "stale_days": _stale_days(),
        "can_change": can_change,
        "lose_form": LoseForm(initial={"version": deal.version}) if can_change else None,
        "today": timezone.localdate(),
        "attachments": attachment_panel(request.user, deal),
        **(deal_work_forms(deal, **forms) if can_change else {}),
        "amount_reporting": deal_in_reporting(deal),
        "reporting": settings.CRM_CURRENCY,
    }


def _stale_days() -> int:
    return settings.CRM_STALE_DEAL_DAYS


def _deal_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The deal form's model fields, which deal_create and deal_update take as they are."""
    return {name: data[name] for name in DealForm.Meta.fields}


@permission_required("sales.add_deal", raise_exception=True)
@require_http_methods(["GET", "POST"])
def deal_create_view(request):
    customer_id = parse_id(request.GET.get("customer") or request.POST.get("customer"))
    if customer_id is None:
        messages.info(request, _("Open a customer and choose “New deal” there."))
        return redirect("customers:customer-list")
    customer = get_object_or_404(customers_visible_to(request.user), pk=customer_id)
    if not can_work_customer(request.user, customer):
        raise PermissionDenied
    pipeline = default_pipeline()
    form = DealForm(
        request.POST or None,
        customer=customer,
        pipeline=pipeline,
        owners=deal_owner_choices(request.user),
        initial={
            "owner": request.user,
            "currency": Deal().currency,
            "expected_close_date": timezone.localdate() + timedelta(days=30),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal = deal_create(
                customer=customer,
                created_by=request.user,
                **_deal_fields(data),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Deal “%(title)s” created.") % {"title": deal.title})
            return redirect(deal)
    context = {"form": form, "deal": None, "customer": customer}
    return render(request, "sales/deal_form.html", context)


@require_http_methods(["GET", "POST"])
def deal_update_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    deal = _changeable_deal(request, pk)
    saved_title = deal.title  # binding the form writes posted values onto `deal`
    owners = deal_owner_choices(request.user, current=deal.owner)

    def bound_form(data: QueryDict | None, instance: Deal) -> DealForm:
        return DealForm(
            data, instance=instance, customer=deal.customer, pipeline=deal.pipeline, owners=owners
        )

    form = bound_form(request.POST or None, deal)
    conflicts = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal_update(
                deal=deal,
                expected_version=data.get("version"),
                updated_by=request.user,
                **_deal_fields(data),
                next_step=data["next_step"],
            )
        except ConcurrentEditError as error:
            form, conflicts = form_after_conflict(error, posted=request.POST, bind=bound_form)
        except (DealRuleError, ValidationError) as error:
            form.add_error(
                None, error.messages if isinstance(error, ValidationError) else str(error)
            )
        else:
            messages.success(request, _("Changes to “%(title)s” saved.") % {"title": data["title"]})
            return redirect("sales:deal-detail", pk=pk)
    context = {
        "form": form,
        "deal": deal,
        "saved_title": saved_title,
        "customer": deal.customer,
        "conflicts": conflicts,
    }
    return render(request, "sales/deal_form.html", context)


@require_http_methods(["GET", "POST"])
def deal_win_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Asks to confirm, with the final amount (the accepted quote's total when there is one)."""
    deal = _changeable_deal(request, pk)
    quote = accepted_quote(deal)
    quote_total = totals(quote.lines.all()).total if quote is not None else None
    proposed = deal.amount if quote_total is None else quote_total
    data = request.POST if request.method == "POST" else None
    form = WinForm(data, initial={"amount": proposed, "version": deal.version})
    # The order is made from the accepted quote, which cannot change: the deal is won at its
    # total (a disabled field takes its initial value whatever is posted).
    form.fields["amount"].disabled = quote_total is not None
    if request.method == "POST" and form.is_valid():
        try:
            deal_win(
                deal=deal,
                won_by=request.user,
                expected_version=form.cleaned_data.get("version"),
                amount=form.cleaned_data["amount"],
            )
        except (DealRuleError, ConcurrentEditError) as error:
            messages.error(request, str(error))
            return redirect("sales:deal-detail", pk=pk)
        except ValidationError as error:  # e.g. a currency stored before it was validated
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Deal “%(title)s” won.") % {"title": deal.title})
            return redirect("sales:deal-detail", pk=pk)
    status = 422 if request.method == "POST" else 200
    context = {"deal": deal, "form": form, "quote": quote, "quote_total": quote_total}
    return render(request, "sales/deal_win.html", context, status=status)


@require_http_methods(["GET", "POST"])
def deal_lose_view(request, pk):
    deal = _changeable_deal(request, pk)
    form = LoseForm(request.POST or None, initial={"version": deal.version})
    if request.method == "POST" and form.is_valid():
        try:
            deal_lose(
                deal=deal,
                reason=form.cleaned_data["reason"],
                lost_by=request.user,
                expected_version=form.cleaned_data.get("version"),
            )
        except (DealRuleError, ConcurrentEditError) as error:
            messages.error(request, str(error))
            return redirect("sales:deal-detail", pk=pk)
        except ValidationError as error:  # e.g. a currency stored before it was validated
            form.add_error(None, error.messages)
        else:
            messages.info(request, _("Deal “%(title)s” marked as lost.") % {"title": deal.title})
            return redirect("sales:deal-detail", pk=pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "sales/deal_lose.html", {"deal": deal, "form": form}, status=status)


CUSTOMER_DEALS_PANEL = "sales/partials/customer_deals_panel.html"


@permission_required("sales.view_deal", raise_exception=True)
def customer_deals_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's 360° page panel: their deals the user may see."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    return render(request, CUSTOMER_DEALS_PANEL, customer_deals_context(request, customer))


def customer_deals_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The deals panel of a customer the user may see (the 360° page renders it inline)."""
    deals = list(
        deals_visible_to(request.user)
        .filter(customer=customer)
        .select_related("stage", "owner")
        .order_by("status", "expected_close_date", "id")[:20]
    )
    # Each amount beside its value in the reporting currency, as on the board and deal page:
    # open deals at today's rate, closed ones at their close date's (one query for the rates).
    book, today = RateBook.load(deal.currency for deal in deals), timezone.localdate()
    for deal in deals:
        day = timezone.localdate(deal.closed_at) if deal.closed_at else today
        deal.amount_reporting = book.convert(deal.amount, deal.currency, day)  # type: ignore[attr-defined]
    can_add = request.user.has_perm("sales.add_deal") and can_work_customer(request.user, customer)
    return {
        "customer": customer,
        "deals": deals,
        "can_add": can_add,
        "reporting": settings.CRM_CURRENCY,
    }


@permission_required("sales.view_deal", raise_exception=True)
def home_pipeline_panel(request):
    return render(request, HOME_PIPELINE_PANEL, home_pipeline_context(request, None))


HOME_PIPELINE_PANEL = "sales/partials/home_pipeline_panel.html"


def home_pipeline_context(request, _page_object=None) -> dict[str, Any]:
    """The home page's panel: the user's own open deals per stage, with the weighted sum,
    from the open deals' totals (sales.deal_totals: a few hundred groups per rep, where the
    deals themselves were 160,000 per rep at 1,000,000 deals, 250 ms a page)."""
    per_currency = (
        OpenDealTotal.objects.filter(owner=request.user)
        .values("stage__name", "stage__order", "stage_id", "currency")
        .annotate(
            count=Sum("deals"),
            total=Sum("amount"),
            weighted=Sum(weighted_amount()),
        )
        .order_by("stage__order", "stage_id")
    )
    rows, missing = merge_currencies(
        [dict(row) for row in per_currency], "stage_id", ("total", "weighted"), timezone.localdate()
    )
    context = {
        "rows": rows,
        "missing": missing,
        "currency": settings.CRM_CURRENCY,
        "total": sum((row["total"] for row in rows), start=0),
        "weighted": sum((row["weighted"] for row in rows), start=0),
        "stale_count": Deal.objects.filter(stale_deal_condition(), owner=request.user).count(),
    }
    return context
