"""Customer list, 360° page, create and edit."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.lib.http import querystring_without
from crm.lib.panels import CUSTOMER_PAGE, panels_for
from customers.filters import CustomerFilter
from customers.forms import ContactDetailsForm, CustomerForm, InteractionForm, TaskForm
from customers.selectors import (
    assignable_users,
    can_edit_contact_details,
    can_edit_customer,
    can_work_customer,
    customer_history,
    customer_timeline,
    customers_visible_to,
    saved_views_for,
)
from customers.services import ConcurrentEditError, customer_create, customer_update
from customers.views.bulk import BulkActionForm

PAGE_SIZE = 25


@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request):
    customer_filter = CustomerFilter(
        request.GET, queryset=customers_visible_to(request.user), request=request
    )
    customers = customer_filter.qs.select_related("owner").prefetch_related("tags")
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": customer_filter,
        "page": page,
        "query": querystring_without(request.GET, "page"),
        "sort_query": querystring_without(request.GET, "page", "sort"),
        "saved_views": saved_views_for(request.user),
        "bulk_form": BulkActionForm(user=request.user),
    }
    return render(request, "customers/customer_list.html", context)


@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request, pk):
    customer = get_object_or_404(
        customers_visible_to(request.user)
        .select_related("owner")
        .prefetch_related("tags", "consents"),
        pk=pk,
    )
    can_work = can_work_customer(request.user, customer)
    context = {
        "customer": customer,
        "contacts": customer.contacts.all(),
        "timeline": customer_timeline(customer),
        "history": customer_history(customer),
        "can_edit": can_edit_contact_details(request.user, customer),
        "can_work": can_work,
        "panels": panels_for(CUSTOMER_PAGE, request.user),
    }
    if can_work:
        context["interaction_form"] = InteractionForm(customer=customer)
        context["task_form"] = TaskForm(
            assignees=assignable_users(request.user), initial={"assignee": request.user}
        )
    return render(request, "customers/customer_detail.html", context)


@permission_required("customers.add_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_create_view(request):
    owners = assignable_users(request.user)
    form = CustomerForm(request.POST or None, owners=owners, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = customer_create(
            data=data,
            owner=data["owner"],
            tags=data["tags"],
            consent_channels=data["consent"],
            consent_source=_("Entered by %(user)s") % {"user": request.user.get_username()},
        )
        messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
        return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None})


@require_http_methods(["GET", "POST"])
def customer_update_view(request, pk):
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if can_edit_customer(request.user, customer):
        form_class, owners = CustomerForm, assignable_users(request.user)
    elif can_edit_contact_details(request.user, customer):
        form_class, owners = ContactDetailsForm, None
    else:
        raise PermissionDenied
    form = form_class(request.POST or None, instance=customer, owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            _save_customer_form(request, customer, form)
        except ConcurrentEditError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Changes to “%(name)s” saved.") % {"name": customer.name})
            return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


def _save_customer_form(request, customer, form):
    data = form.cleaned_data
    # The posted version is what the user saw; without one (an old form), use the current one.
    expected = data.get("version") or customer.version
    if isinstance(form, CustomerForm):
        customer_update(
            customer=customer,
            expected_version=expected,
            data=data,
            owner=data["owner"],
            tags=data["tags"],
            consent_channels=data["consent"],
            consent_source=_("Changed by %(user)s") % {"user": request.user.get_username()},
        )
    else:
        customer_update(customer=customer, expected_version=expected, data=data)


@permission_required("customers.delete_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_delete_view(request, pk):
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            name = customer.name
            customer.delete()
        messages.success(request, _("Customer “%(name)s” deleted.") % {"name": name})
        return redirect("customers:customer-list")
    return render(request, "customers/customer_confirm_delete.html", {"customer": customer})
