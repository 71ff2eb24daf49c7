"""Customer list, 360° page, create and edit."""

from collections.abc import Collection

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.attachments import attachment_panel
from crm.lib.concurrency import ConcurrentEditError, form_after_conflict
from crm.lib.forms import offer_choices
from crm.lib.http import AuthenticatedHttpRequest, querystring_without
from crm.lib.list_extensions import (
    CUSTOMER_LIST,
    Cell,
    annotate_rows,
    attach_cells,
    extra_columns,
)
from crm.lib.panels import CUSTOMER_PAGE, deferred_panels, panels_in_page
from customers.filters import CustomerFilter
from customers.forms import (
    ContactDetailsForm,
    CustomerForm,
    InteractionForm,
    ListColumnsForm,
    TaskForm,
)
from customers.list_columns import (
    available_columns,
    extension_columns,
    list_columns_reset,
    list_columns_save,
    split_saved_views,
)
from customers.models import Customer
from customers.selectors import (
    assignable_users,
    can_edit_contact_details,
    can_edit_customer,
    can_work_customer,
    customer_history,
    customer_owners,
    customers_visible_to,
    saved_views_for,
)
from customers.services import customer_create, customer_delete, customer_update
from customers.views.bulk import BulkActionForm
from customers.views.timeline import timeline_context

PAGE_SIZE = 25


def customer_row_shown(customer: Customer, cells: list[Cell], columns: Collection[str]) -> tuple:
    """Every value a row of the list (customers/partials/customer_row.html) shows: the key
    it is kept rendered under. A value the row shows must be named here."""
    owner = customer.owner
    return (
        customer.pk, customer.name, customer.is_key_account, customer.organization,
        tuple(tag.name for tag in customer.tags.all()), customer.stage, customer.email,
        customer.phone, customer.region, customer.industry,
        owner.get_username() if owner else "", tuple(cells),
        customer.updated_at, tuple(sorted(columns)),
    )  # fmt: skip


@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    customer_filter = CustomerFilter(
        request.GET, queryset=customers_visible_to(request.user), request=request
    )
    customers = customer_filter.qs.select_related("owner").prefetch_related("tags")
    # Columns other apps add (analytics: segment, LTV), read in the list's own query.
    customers = annotate_rows(CUSTOMER_LIST, request.user, customers)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    attach_cells(CUSTOMER_LIST, request.user, page.object_list)
    saved_views, columns = split_saved_views(request.user, saved_views_for(request.user))
    shown = [i for i, (key, _c) in enumerate(extension_columns(request.user)) if key in columns]
    for row in page.object_list:
        row.extra_cells = [row.extra_cells[i] for i in shown]
        row.row_shown = customer_row_shown(row, row.extra_cells, columns)
    all_extra = extra_columns(CUSTOMER_LIST, request.user)
    owners = list(customer_owners())  # one read for the owner filter and the bulk form
    offer_choices(customer_filter.form.fields["owner"], owners)
    context = {
        "filter": customer_filter,
        "page": page,
        "extra_columns": [all_extra[i] for i in shown],
        "columns": columns,
        # The page's query beside the form, not in it: the boxes stay one rendered
        # fragment per user ({% formcache %}) across the pages of the list.
        "columns_form": ListColumnsForm(
            initial={"columns": sorted(columns)}, choices=available_columns(request.user)
        ),
        "columns_next_query": request.GET.urlencode(),
        "query": querystring_without(request.GET, "page"),
        "sort_query": querystring_without(request.GET, "page", "sort"),
        "saved_views": saved_views,
        "bulk_form": BulkActionForm(user=request.user, owners=owners),
    }
    return render(request, "customers/customer_list.html", context)


@permission_required("customers.view_customer", raise_exception=True)
@require_POST
def list_columns_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Save the columns the user chose (or go back to the default set)."""
    form = ListColumnsForm(request.POST, choices=available_columns(request.user))
    if not form.is_valid():
        messages.error(request, _("Those columns are not on the list."))
        return redirect("customers:customer-list")
    if form.cleaned_data["reset"]:
        list_columns_reset(user=request.user)
    else:
        list_columns_save(user=request.user, columns=form.cleaned_data["columns"])
    query = form.cleaned_data["next_query"]
    target = reverse("customers:customer-list")
    return redirect(f"{target}?{query}" if query and "\x00" not in query else target)


@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(
        customers_visible_to(request.user)
        .select_related("owner")
        .prefetch_related("tags", "consents"),
        pk=pk,
    )
    can_work = can_work_customer(request.user, customer)
    contacts = list(customer.contacts.all())  # read once: the list and the interaction form
    panels = panels_in_page(CUSTOMER_PAGE, request, customer)
    context = {
        "customer": customer,
        "contacts": contacts,
        **timeline_context(request, customer),
        "history": customer_history(customer),
        "attachments": attachment_panel(request.user, customer),
        "can_edit": can_edit_contact_details(request.user, customer),
        "can_work": can_work,
        "panels": panels,
        "has_deferred_panels": any(shown.panel.deferred for shown in panels),
    }
    if can_work:
        context["interaction_form"] = InteractionForm(customer=customer, contacts=contacts)
        context["task_form"] = TaskForm(
            assignees=assignable_users(request.user), initial={"assignee": request.user}
        )
    return render(request, "customers/customer_detail.html", context)


@permission_required("customers.view_customer", raise_exception=True)
def customer_deferred_panels(request: HttpRequest, pk: int) -> HttpResponse:
    """The 360° page's deferred panels, in one request: each replaces its placeholder
    (htmx out-of-band swaps), with one look-up of the user and the customer for all."""
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    context = {"panels": deferred_panels(CUSTOMER_PAGE, request, customer)}
    return render(request, "customers/partials/deferred_panels.html", context)


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
            by=request.user,
        )
        messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
        return redirect(customer)
    return render(request, "customers/customer_form.html", {"form": form, "customer": None})


@require_http_methods(["GET", "POST"])
def customer_update_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    saved_name = customer.name  # binding the form writes posted values onto `customer`
    form_class: type[CustomerForm] | type[ContactDetailsForm]
    if can_edit_customer(request.user, customer):
        form_class, owners = CustomerForm, assignable_users(request.user)
    elif can_edit_contact_details(request.user, customer):
        form_class, owners = ContactDetailsForm, None
    else:
        raise PermissionDenied
    form = form_class(request.POST or None, instance=customer, owners=owners)
    conflicts = None
    if request.method == "POST" and form.is_valid():
        try:
            _save_customer_form(request, customer, form)
        except ConcurrentEditError as error:
            form, conflicts = form_after_conflict(
                error,
                posted=request.POST,
                bind=lambda data, current: form_class(data, instance=current, owners=owners),
                ignore=["confirm_duplicate"],
            )
        else:
            messages.success(request, _("Changes to “%(name)s” saved.") % {"name": customer.name})
            return redirect(customer)
    context = {"form": form, "customer": customer, "saved_name": saved_name, "conflicts": conflicts}
    return render(request, "customers/customer_form.html", context)


def _save_customer_form(
    request: AuthenticatedHttpRequest, customer: Customer, form: CustomerForm | ContactDetailsForm
) -> None:
    data = form.cleaned_data
    expected = data.get("version")  # what the user saw; missing is a conflict
    if isinstance(form, CustomerForm):
        customer_update(
            customer=customer,
            expected_version=expected,
            data=data,
            owner=data["owner"],
            tags=data["tags"],
            consent_channels=data["consent"],
            consent_source=_("Changed by %(user)s") % {"user": request.user.get_username()},
            by=request.user,
        )
    else:
        customer_update(customer=customer, expected_version=expected, data=data)


@permission_required("customers.delete_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if request.method == "POST":
        name = customer.name
        try:
            customer_delete(customer=customer)
        except ProtectedError:
            messages.error(
                request,
                _(
                    "“%(name)s” has orders, which are the purchase history and are kept. "
                    "Set the lifecycle stage to churned instead, or merge the record into another."
                )
                % {"name": name},
            )
            return redirect(customer)
        messages.success(request, _("Customer “%(name)s” deleted.") % {"name": name})
        return redirect("customers:customer-list")
    return render(request, "customers/customer_confirm_delete.html", {"customer": customer})


@permission_required("customers.view_customer", raise_exception=True)
def home_customers_panel(request):
    return render(request, HOME_CUSTOMERS_PANEL, home_customers_context(request, None))


HOME_CUSTOMERS_PANEL = "customers/partials/home_customers_panel.html"


def home_customers_context(request, _page_object=None) -> dict:
    """The home page's panel: the user's recently updated customers and shortcuts."""
    recent = (
        customers_visible_to(request.user).filter(owner=request.user).order_by("-updated_at")[:6]
    )
    return {"customers": recent}
