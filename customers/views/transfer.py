"""CSV export and import of customers."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.audit import audit_record
from core.exporting import export_response
from core.models import AuditEvent
from crm.lib.csv_export import csv_file_response
from crm.lib.tasks import QUEUED_UNTIL_BROKER_IS_BACK, publish_report
from crm.lib.uploads import ImportFileError
from customers.csv_format import COLUMNS
from customers.exports import build_customer_export
from customers.forms import CustomerImportApplyForm, CustomerImportUploadForm
from customers.import_csv import MAX_ROWS
from customers.import_mapping import hold_upload
from customers.import_preview import import_preview
from customers.import_services import (
    ImportClosedError,
    customer_import_cancel,
    customer_import_create,
    customer_import_queue,
    import_progress_key,
)
from customers.importing import (
    CREATE,
    UNCHANGED,
    UPDATE,
    imports_of,
    rows_not_imported,
)
from customers.models import Channel, Customer, CustomerImport


def customer_export_response(request: HttpRequest, params: QueryDict) -> HttpResponseBase:
    """The customers the role may export (customers.exports), audited; large ones in the
    background."""
    return export_response(request, build_customer_export(request.user, params))


@permission_required("customers.export_customers", raise_exception=True)
def customer_export(request):
    """Export what the list shows for the current filters, within the role's export scope."""
    return customer_export_response(request, request.GET)


# --- Import ----------------------------------------------------------------------------------

IMPORT_PAGE_SIZE = 50
_SHOW_CHOICES = ["all", "errors", CREATE, UPDATE, UNCHANGED]


@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_import_upload(request):
    """Step 1: upload a CSV; the file as a whole is checked, then kept for the preview."""
    posted = request.method == "POST"
    form = CustomerImportUploadForm(*((request.POST, request.FILES) if posted else ()))
    if posted and form.is_valid() and form.needs_mapping:
        hold_upload(
            user_id=request.user.pk, file_name=form.cleaned_data["file"].name, text=form.text
        )
        return redirect("customers:customer-import-columns")
    if posted and form.is_valid():
        try:
            customer_import = customer_import_create(
                user=request.user,
                file_name=form.cleaned_data["file"].name,
                text=form.text,
                row_count=form.row_count,
            )
        except ValidationError as error:  # too many imports waiting
            form.add_error(None, error)
        else:
            return redirect(customer_import)
    context = {
        "form": form,
        "column_help": _column_help(),
        "recent_imports": imports_of(request.user)[:10],
        "max_rows": MAX_ROWS,
        "max_bytes": settings.CRM_IMPORT_MAX_BYTES,
    }
    return render(
        request,
        "customers/customer_import.html",
        context,
        status=422 if form.errors else 200,
    )


def _column_help() -> list[tuple[str, str]]:
    def codes(choices) -> str:
        return ", ".join(choices.values)

    help_by_column = {
        "external_id": _(
            "Your id in the system the data comes from: a row with a known id updates that customer."
        ),
        "name": _("Required."),
        "kind": _("%(codes)s; new customers default to person.") % {"codes": codes(Customer.Kind)},
        "organization": _("For a person: the company they work for."),
        "email": _(
            "Without an external id, a row updates the customer with this email (in any case)."
        ),
        "phone": _("5 to 30 digits, spaces, brackets, dots or dashes, optionally starting with +."),
        "company_size": codes(Customer.Size),
        "source": _("%(codes)s; new customers default to import.")
        % {"codes": codes(Customer.Source)},
        "stage": _("%(codes)s; new customers default to lead.") % {"codes": codes(Customer.Stage)},
        "owner": _(
            "A username; empty means you for new customers and no change for existing ones."
        ),
        "tags": _("Tag names separated by “;”."),
        "is_key_account": _("yes or no."),
        "preferred_channel": codes(Channel),
    }
    text = _("Text; for an existing customer an empty cell empties the field.")
    return [(column, help_by_column.get(column, text)) for column in COLUMNS]


@permission_required("customers.import_customers", raise_exception=True)
def customer_import_template(request):
    """The header line of the import layout, to fill in a spreadsheet."""
    return csv_file_response([COLUMNS], filename="customers-template.csv")


@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_import_preview(request, pk):
    """Step 2: every row with its errors; confirm (POST) to import, or cancel. Then the result."""
    customer_import = get_object_or_404(imports_of(request.user), pk=pk)
    initial = {"mode": customer_import.mode} if customer_import.mode else {}
    apply_form = CustomerImportApplyForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                customer_import_cancel(customer_import=customer_import)
                messages.info(request, _("Import cancelled: nothing was written."))
                return redirect("customers:customer-import")
            if apply_form.is_valid():
                # A background job writes the rows; the page it redirects to shows its
                # progress, then the outcome: counts, or the rows at fault.
                mode = apply_form.cleaned_data["mode"]
                with publish_report() as report, transaction.atomic():
                    customer_import_queue(
                        customer_import=customer_import, user=request.user, mode=mode
                    )
                    audit_record(
                        AuditEvent.Action.IMPORT,
                        request=request,
                        target=customer_import,
                        rows=customer_import.row_count,
                        detail={"mode": mode},
                    )
                if report.failed:  # the import sweep publishes it when the broker is back
                    messages.warning(request, QUEUED_UNTIL_BROKER_IS_BACK)
                return redirect(customer_import)
        except ImportClosedError as error:
            messages.warning(request, str(error))
            return redirect(customer_import)
        except ImportFileError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(customer_import)
    context = {"customer_import": customer_import, "apply_form": apply_form}
    if customer_import.status == CustomerImport.Status.APPLIED:
        columns, skipped = rows_not_imported(customer_import)
        context.update(
            {
                "columns": columns,
                "page": Paginator(skipped, IMPORT_PAGE_SIZE).get_page(request.GET.get("page")),
            }
        )
    elif customer_import.is_open:
        try:
            _add_preview(request, context, import_preview(customer_import, user=request.user))
        except ImportFileError as error:
            context["file_errors"] = error.messages
    return render(request, "customers/customer_import_preview.html", context)


@permission_required("customers.import_customers", raise_exception=True)
def customer_import_progress(request, pk):
    """Polled by the page while the background import runs; reloads the page when it ends."""
    customer_import = get_object_or_404(imports_of(request.user), pk=pk)
    if customer_import.status != CustomerImport.Status.QUEUED:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    progress = cache.get(import_progress_key(customer_import.pk)) or {"done": 0, "total": 0}
    percent = round(100 * progress["done"] / progress["total"]) if progress["total"] else 0
    context = {"customer_import": customer_import, "percent": percent, **progress}
    return render(request, "customers/partials/import_progress.html", context)


def _add_preview(request, context: dict, analysis) -> None:
    show = request.GET.get("show")
    if show not in _SHOW_CHOICES:
        show = "errors" if analysis.error_count else "all"
    context.update(
        {
            "analysis": analysis,
            "show": show,
            "show_choices": [
                ("all", _("All rows"), len(analysis.rows)),
                ("errors", _("With errors"), analysis.error_count),
                (CREATE, _("To create"), analysis.create_count),
                (UPDATE, _("To update"), analysis.update_count),
                (UNCHANGED, _("Unchanged"), analysis.unchanged_count),
            ],
            "page": Paginator(analysis.rows_with(show), IMPORT_PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "query": urlencode({"show": show}),
            "columns": analysis.columns,
            "writable_count": analysis.create_count + analysis.update_count,
        }
    )
