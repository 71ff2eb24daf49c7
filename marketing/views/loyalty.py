"""The loyalty panel on the customer's 360° page, and manual adjustments and redemptions."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.selectors import customers_visible_to, may_see_customer_money
from marketing.forms import LoyaltyForm
from marketing.selectors import loyalty_entries_for
from marketing.services.loyalty import loyalty_adjust, loyalty_redeem, loyalty_status

PANEL_ENTRIES = 5


CUSTOMER_LOYALTY_PANEL = "marketing/partials/customer_loyalty_panel.html"


def customer_loyalty_context(
    request: HttpRequest, customer: Customer, form: LoyaltyForm | None = None
) -> dict[str, Any]:
    """The loyalty panel of a customer the user may see (the 360° page renders it inline)."""
    can_change = request.user.has_perm("marketing.add_loyaltyentry")
    return {
        "customer": customer,
        "status": loyalty_status(customer),
        "entries": loyalty_entries_for(request.user, customer)[:PANEL_ENTRIES],
        "form": (form or LoyaltyForm()) if can_change else None,
        # The 12 months' spend is money: shown as on the value panel (issue 13).
        "with_money": may_see_customer_money(request.user, customer),
        "currency": settings.CRM_CURRENCY,  # the 12-month spend's
    }


@permission_required("marketing.view_loyaltyentry", raise_exception=True)
def customer_loyalty_panel(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    return render(request, CUSTOMER_LOYALTY_PANEL, customer_loyalty_context(request, customer))


@permission_required("marketing.add_loyaltyentry", raise_exception=True)
@require_POST
def loyalty_change_view(request, pk):
    """Adjust or redeem from the panel; htmx swaps the panel, a plain post redirects."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    form = LoyaltyForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        change = loyalty_redeem if data["action"] == LoyaltyForm.REDEEM else loyalty_adjust
        try:
            change(customer=customer, points=data["points"], reason=data["reason"], by=request.user)
        except ValidationError as error:
            form.add_error("points", error.messages)
        else:
            status = 200
            form = None
            if not request.htmx:
                messages.success(request, _("Loyalty points updated."))
                return redirect(customer)
    if not request.htmx and status != 200:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(customer)
    return render(
        request,
        CUSTOMER_LOYALTY_PANEL,
        customer_loyalty_context(request, customer, form),
        status=status,
    )
