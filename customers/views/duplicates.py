"""Possible duplicates, “Not duplicates”, and the side-by-side merge (managers)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.audit import audit_record
from core.models import AuditEvent
from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.tasks import QUEUED_UNTIL_BROKER_IS_BACK, publish_report
from customers.duplicate_refresh import (
    duplicate_refresh_state,
    duplicates_refresh_queue,
    refresh_in_progress,
)
from customers.duplicates import duplicate_candidates, duplicate_dismiss
from customers.forms import DismissForm, MergeChoicesForm, MergeForm
from customers.merging import MergeGoneError, differing_fields, field_label
from customers.models import Customer
from customers.selectors import customers_visible_to
from customers.services import customers_merge

PAGE_SIZE = 25


@permission_required("customers.merge_customers", raise_exception=True)
def duplicate_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The pairs the last refresh stored (see customers.duplicate_refresh)."""
    page = Paginator(duplicate_candidates(), PAGE_SIZE).get_page(request.GET.get("page"))
    state = duplicate_refresh_state()
    context = {"page": page, "query": "", "state": state, "running": refresh_in_progress(state)}
    return render(request, "customers/duplicate_list.html", context)


@permission_required("customers.merge_customers", raise_exception=True)
@require_POST
def duplicate_refresh_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """“Refresh now”: a background job; the page says it is running until it finishes."""
    with publish_report() as report, transaction.atomic():
        queued = duplicates_refresh_queue()
    if report.failed:
        messages.warning(request, str(QUEUED_UNTIL_BROKER_IS_BACK))
    elif queued:
        messages.success(request, _("Looking for duplicates again. This takes a minute."))
    else:
        messages.info(request, _("A search for duplicates is running already."))
    return redirect("customers:duplicate-list")


@permission_required("customers.merge_customers", raise_exception=True)
@require_POST
def duplicate_dismiss_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DismissForm(request.POST)
    if not form.is_valid() or form.cleaned_data["first"] == form.cleaned_data["second"]:
        messages.error(request, _("Choose two different customers."))
        return redirect("customers:duplicate-list")
    visible = customers_visible_to(request.user)
    first = get_object_or_404(visible, pk=form.cleaned_data["first"])
    second = get_object_or_404(visible, pk=form.cleaned_data["second"])
    duplicate_dismiss(first=first, second=second, user=request.user)
    messages.success(
        request,
        _("“%(first)s” and “%(second)s” will not be shown as duplicates again.")
        % {"first": first.name, "second": second.name},
    )
    return redirect(reverse("customers:duplicate-list") + _page_query(request))


def _page_query(request: AuthenticatedHttpRequest) -> str:
    page = request.POST.get("page", "")
    return f"?page={page}" if page.isascii() and page.isdigit() and len(page) < 7 else ""


def _shown(customer: Customer, field: str) -> str:
    if field == "owner":
        return customer.owner.get_username() if customer.owner else ""
    display = getattr(customer, f"get_{field}_display", None)
    return str(display()) if display else str(getattr(customer, field))


def _choice_rows(kept: Customer, duplicate: Customer) -> list[tuple[str, str, str, str]]:
    return [
        (
            field,
            field_label(field),
            _shown(kept, field) or "—",
            _shown(duplicate, field),
        )
        for field in differing_fields(kept, duplicate)
    ]


def _find_duplicate(
    request: AuthenticatedHttpRequest, kept: Customer, form: MergeForm
) -> Customer | None:
    if not (form.is_bound and form.is_valid()):
        return None
    duplicate = (
        customers_visible_to(request.user)
        .select_related("owner")
        .filter(pk=form.cleaned_data["duplicate"])
        .first()
    )
    if duplicate is None:
        form.add_error("duplicate", _("No customer has that number."))
    elif duplicate.pk == kept.pk:
        form.add_error(
            "duplicate", _("Choose a different customer: a record cannot be merged with itself.")
        )
        return None
    return duplicate


@permission_required("customers.merge_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_merge_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Choose the duplicate, then compare side by side and confirm."""
    kept = get_object_or_404(customers_visible_to(request.user).select_related("owner"), pk=pk)
    form = MergeForm(request.POST or request.GET or None)
    duplicate = _find_duplicate(request, kept, form)
    context: dict = {"customer": kept, "form": form, "duplicate": duplicate}
    if duplicate is None:
        return render(request, "customers/customer_merge.html", context)
    data = request.POST if request.method == "POST" else None
    choices = MergeChoicesForm(data, fields=_choice_rows(kept, duplicate))
    if request.method == "POST" and request.POST.get("confirm") == "1" and choices.is_valid():
        try:
            with transaction.atomic():  # the merge and its audit entry commit together
                audit_record(
                    AuditEvent.Action.MERGE,
                    request=request,
                    target=kept,
                    rows=1,
                    detail={"duplicate": duplicate.pk, "taken": choices.taken()},
                )
                customers_merge(
                    kept=kept, duplicate=duplicate, merged_by=request.user, take=choices.taken()
                )
        except MergeGoneError as error:
            messages.error(request, str(error))
            return redirect("customers:duplicate-list")
        messages.success(
            request, _("“%(dup)s” was merged into this customer.") % {"dup": duplicate.name}
        )
        return redirect(kept)
    context["choices"] = choices
    context["moves"] = {
        "interactions": duplicate.interactions.count(),
        "tasks": duplicate.tasks.count(),
        "contacts": duplicate.contacts.count(),
    }
    return render(request, "customers/customer_merge.html", context)
