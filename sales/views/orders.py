"""Orders: list, detail, manual entry, and the panel on the customer's 360° page."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.exchange import to_reporting
from crm.lib.http import querystring_without
from crm.lib.params import parse_id, search_text
from customers.models import Customer
from customers.selectors import customers_visible_to, search_customers
from sales.converted import orders_total
from sales.money import to_cents, totals
from sales.order_filters import OrderFilter
from sales.quote_forms import OrderForm, line_formset
from sales.selectors import (
    active_products,
    can_enter_orders_for,
    order_customers_for,
    orders_visible_to,
)
from sales.services import order_create
from sales.views.quotes import _apply_service_error, _products_json, deal_url

PAGE_SIZE = 25
PANEL_ORDERS = 5
PICK_RESULTS = 20


@permission_required("sales.view_order", raise_exception=True)
def order_list(request):
    order_filter = OrderFilter(request.GET, queryset=orders_visible_to(request.user))
    orders = order_filter.qs.select_related("customer")
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": order_filter,
        "page": page,
        "query": querystring_without(request.GET, "page"),
        "reporting": settings.CRM_CURRENCY,  # beside each total, stored in Order.total_reporting
    }
    return render(request, "sales/order_list.html", context)


@permission_required("sales.view_order", raise_exception=True)
def order_detail(request, pk):
    order = get_object_or_404(
        orders_visible_to(request.user).select_related("customer", "deal", "quote"), pk=pk
    )
    lines = list(order.lines.all())
    context = {
        "order": order,
        "lines": lines,
        "totals": totals(lines),
        "deal_url": deal_url(order.deal) if order.deal_id else None,
        # At the order date's rate: what the order was worth when it was placed.
        "total_reporting": to_reporting(
            order.total, order.currency, timezone.localdate(order.ordered_at)
        ),
        "reporting": settings.CRM_CURRENCY,
    }
    return render(request, "sales/order_detail.html", context)


@permission_required("sales.add_order", raise_exception=True)
@require_http_methods(["GET", "POST"])
def order_create_view(request):
    customers = order_customers_for(request.user)
    wanted = parse_id(request.GET.get("customer"))
    if wanted is None:
        return _pick_customer(request, customers)
    customer = get_object_or_404(customers, pk=wanted)
    products = active_products()
    form = OrderForm(
        request.POST or None,
        customers=customers,
        initial={
            "customer": customer.pk,
            "ordered_at": timezone.localtime().replace(second=0, microsecond=0),
        },
    )
    formset = line_formset(request.POST or None, products=products)
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                order = order_create(
                    customer=data["customer"],
                    ordered_at=data["ordered_at"],
                    channel=data["channel"],
                    coupon_code=data["coupon_code"],
                    lines=formset.lines(),
                )
            except ValidationError as error:
                _apply_service_error(formset, error)
            else:
                messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
                return redirect(order)
        status = 422
    context = {
        "form": form,
        "formset": formset,
        "customer": customer,
        "products_json": _products_json(products),
    }
    return render(request, "sales/order_form.html", context, status=status)


def _pick_customer(request, customers):
    """First step of a manual order: find the customer (a select of every one would not do)."""
    text = search_text(request.GET)
    results = (
        search_customers(customers, text).order_by("name", "id")[:PICK_RESULTS] if text else []
    )
    context = {"q": text, "results": results}
    return render(request, "sales/order_customer_pick.html", context)


CUSTOMER_ORDERS_PANEL = "sales/partials/customer_orders_panel.html"


@permission_required("sales.view_order", raise_exception=True)
def customer_orders_panel(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The 360° page's panel: latest orders, count and lifetime total."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=customer_pk)
    return render(request, CUSTOMER_ORDERS_PANEL, customer_orders_context(request, customer))


def customer_orders_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """The orders panel of a customer the user may see (deferred on the 360° page)."""
    orders = orders_visible_to(request.user).filter(customer=customer)
    lifetime = orders_total(orders)  # per currency and day, in the reporting currency
    return {
        "customer": customer,
        "orders": orders.order_by("-ordered_at", "-id")[:PANEL_ORDERS],
        "count": orders.count(),
        "lifetime": to_cents(lifetime.amount),
        "missing": lifetime.missing,
        "currency": settings.CRM_CURRENCY,
        "can_add": can_enter_orders_for(request.user, customer),
        # A rep sees only their own customers' orders: "none" must not mean "none at all".
        "sees_every_order": request.user.has_perm("sales.view_any_deal"),
    }
