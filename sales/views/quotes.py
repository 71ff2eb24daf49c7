"""Quotes of a deal: builder, detail, edit while draft, status, print page."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.attachments import attachment_panel
from crm.lib.concurrency import ConcurrentEditError, Difference, form_after_conflict
from sales.models import Deal, Quote
from sales.money import totals
from sales.quote_forms import QuoteForm, line_formset
from sales.selectors import (
    active_products,
    can_change_deal,
    can_change_quote,
    deals_visible_to,
    quotes_visible_to,
)
from sales.seller import current_seller, rep_contact
from sales.services import DealRuleError, quote_create, quote_set_status, quote_update

QUOTE_VALIDITY_DAYS = 30

# The buttons the detail page offers for each status (the service checks every move).
STATUS_ACTIONS = {
    Quote.Status.DRAFT: [Quote.Status.SENT],
    Quote.Status.SENT: [Quote.Status.ACCEPTED, Quote.Status.REJECTED, Quote.Status.DRAFT],
    Quote.Status.REJECTED: [Quote.Status.DRAFT],
    Quote.Status.ACCEPTED: [],
}


def deal_url(deal) -> str | None:
    """The deal's page, when the deals pages are installed."""
    try:
        return deal.get_absolute_url()
    except NoReverseMatch:
        return None


def _products_json(products) -> dict:
    return {
        str(p.pk): {
            "description": p.name,
            "unit_price": str(p.unit_price),
            "tax_rate": str(p.tax_rate),
        }
        for p in products
    }


def _apply_service_error(formset, error: ValidationError) -> None:
    formset._non_form_errors = formset.error_class(error.messages, renderer=formset.renderer)


def _builder(
    request: HttpRequest,
    *,
    deal: Deal,
    form: QuoteForm,
    formset: BaseFormSet,
    quote: Quote | None = None,
    status: int = 200,
    conflicts: list[Difference] | None = None,
) -> HttpResponse:
    products = active_products()
    context = {
        "deal": deal,
        "deal_url": deal_url(deal),
        "quote": quote,
        "form": form,
        "formset": formset,
        "products_json": _products_json(products),
        "conflicts": conflicts,
    }
    return render(request, "sales/quote_form.html", context, status=status)


@permission_required("sales.add_quote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def quote_create_view(request, deal_pk):
    deal = get_object_or_404(deals_visible_to(request.user).select_related("customer"), pk=deal_pk)
    if not can_change_deal(request.user, deal):
        raise PermissionDenied
    products = active_products()
    initial = {"valid_until": timezone.localdate() + timedelta(days=QUOTE_VALIDITY_DAYS)}
    form = QuoteForm(request.POST or None, initial=initial)
    formset = line_formset(request.POST or None, products=products)
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            try:
                quote = quote_create(
                    deal=deal,
                    valid_until=form.cleaned_data["valid_until"],
                    notes=form.cleaned_data["notes"],
                    lines=formset.lines(),
                    created_by=request.user,
                )
            except ValidationError as error:
                _apply_service_error(formset, error)
            else:
                messages.success(request, _("Quote %(number)s created.") % {"number": quote.number})
                return redirect(quote)
        return _builder(request, deal=deal, form=form, formset=formset, status=422)
    return _builder(request, deal=deal, form=form, formset=formset)


def _visible_quote(request, pk):
    return get_object_or_404(
        quotes_visible_to(request.user).select_related(
            "deal__customer", "deal__owner", "created_by", "order"
        ),
        pk=pk,
    )


@permission_required("sales.view_quote", raise_exception=True)
def quote_detail(request, pk):
    quote = _visible_quote(request, pk)
    lines = list(quote.lines.all())
    can_change = can_change_quote(request.user, quote)
    actions = [(status, Quote.Status(status).label) for status in STATUS_ACTIONS[quote.status]]
    quote_totals = totals(lines)
    context = {
        "quote": quote,
        "deal_url": deal_url(quote.deal),
        "lines": lines,
        "totals": quote_totals,
        # Accepting sets the deal's amount: the button says so when it changes it.
        "changes_deal_amount": (quote.deal.amount, quote.deal.currency)
        != (quote_totals.total, quote.currency),
        "can_change": can_change,
        "actions": actions if can_change else [],
        "order": getattr(quote, "order", None),
        "attachments": attachment_panel(request.user, quote),
    }
    return render(request, "sales/quote_detail.html", context)


@permission_required("sales.change_quote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def quote_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _visible_quote(request, pk)
    if not can_change_quote(request.user, quote):
        raise PermissionDenied
    if quote.status != Quote.Status.DRAFT:
        messages.warning(request, _("Only a draft quote can be edited."))
        return redirect(quote)
    products = active_products()
    initial_lines = [
        {
            "product": line.product_id,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
            "tax_rate": line.tax_rate,
        }
        for line in quote.lines.all()
    ]
    form = _quote_form(request.POST or None, quote)
    formset = line_formset(request.POST or None, products=products, initial=initial_lines)
    conflicts = None
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            try:
                quote_update(
                    quote=quote,
                    valid_until=form.cleaned_data["valid_until"],
                    notes=form.cleaned_data["notes"],
                    lines=formset.lines(),
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as error:
                _apply_service_error(formset, error)
            except ConcurrentEditError as error:
                form, conflicts = form_after_conflict(error, posted=request.POST, bind=_quote_form)
            except DealRuleError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Quote %(number)s saved.") % {"number": quote.number})
                return redirect(quote)
        return _builder(
            request,
            deal=quote.deal,
            form=form,
            formset=formset,
            quote=quote,
            status=422,
            conflicts=conflicts,
        )
    return _builder(request, deal=quote.deal, form=form, formset=formset, quote=quote)


def _quote_form(data: QueryDict | None, quote: Quote) -> QuoteForm:
    """The quote's own fields (its lines are a formset), as saved in `quote`."""
    initial = {"valid_until": quote.valid_until, "notes": quote.notes, "version": quote.version}
    return QuoteForm(data, initial=initial)


@permission_required("sales.change_quote", raise_exception=True)
@require_POST
def quote_status_view(request, pk):
    quote = _visible_quote(request, pk)
    if not can_change_quote(request.user, quote):
        raise PermissionDenied
    status = request.POST.get("status", "")
    try:
        quote = quote_set_status(quote=quote, status=status)
    except DealRuleError as error:
        messages.error(request, str(error))
    except ValidationError as error:  # e.g. a currency stored before it was validated
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Quote %(number)s is now %(status)s.")
            % {"number": quote.number, "status": quote.get_status_display()},
        )
        if quote.status == Quote.Status.ACCEPTED and hasattr(quote, "order"):
            messages.info(request, _("Order %(number)s created.") % {"number": quote.order.number})
    return redirect(quote)


@permission_required("sales.view_quote", raise_exception=True)
def quote_print(request, pk):
    """The quote as the customer reads it: in the customer's language when they have one."""
    quote = _visible_quote(request, pk)
    lines = list(quote.lines.all())
    with translation.override(quote.deal.customer.language or translation.get_language()):
        context = {
            "quote": quote,
            "lines": lines,
            "totals": totals(lines),
            "seller": current_seller(),
            "rep": rep_contact(quote.deal.owner),
            "back_url": reverse("sales:quote-detail", args=[quote.pk]),
        }
        return render(request, "sales/quote_print.html", context)
