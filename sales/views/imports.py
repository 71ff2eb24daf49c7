"""Order import from the browser: upload, preview with per-row errors, confirm, result."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.audit import audit_record
from core.models import AuditEvent
from sales.import_forms import OrderImportApplyForm, OrderImportUploadForm
from sales.import_preview import order_import_preview_report
from sales.import_services import (
    OrderImportRejected,
    order_import_apply,
    order_import_cancel,
    order_import_create,
)
from sales.importing import COLUMNS, MAX_ERRORS, SAMPLE_ROWS
from sales.models import Order, OrderImport
from sales.services import DealRuleError


def _imports_of(user):
    """A user sees only their own uploads."""
    return OrderImport.objects.filter(user=user)


@permission_required("sales.import_orders", raise_exception=True)
@require_http_methods(["GET", "POST"])
def order_import_upload(request):
    """Step 1: upload a CSV; the file as a whole is checked, then kept for the preview."""
    posted = request.method == "POST"
    form = OrderImportUploadForm(*((request.POST, request.FILES) if posted else ()))
    if posted and form.is_valid():
        try:
            upload = order_import_create(
                user=request.user,
                file_name=form.cleaned_data["file"].name,
                text=form.text,
                row_count=form.row_count,
            )
        except ValidationError as error:  # too many files waiting
            form.add_error(None, error)
        else:
            return redirect(upload)
    context = {
        "form": form,
        "columns": COLUMNS,
        "channels": ", ".join(Order.Channel.values),
        "currency": settings.CRM_CURRENCY,
        "time_zone": settings.TIME_ZONE,
        "max_bytes": settings.CRM_IMPORT_MAX_BYTES,
        "recent_imports": _imports_of(request.user)[:10],
    }
    return render(request, "sales/order_import.html", context, status=422 if form.errors else 200)


@permission_required("sales.import_orders", raise_exception=True)
@require_http_methods(["GET", "POST"])
def order_import_preview(request, pk):
    """Step 2: counts, the first rows and every error (up to 1,000); confirm or cancel."""
    upload = get_object_or_404(_imports_of(request.user), pk=pk)
    can_create_customers = request.user.has_perm("customers.add_customer")
    apply_form = OrderImportApplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            order_import_cancel(upload=upload)
            messages.info(request, _("Import cancelled: nothing was written."))
            return redirect("sales:order-import")
        if apply_form.is_valid():
            create_customers = can_create_customers and apply_form.cleaned_data["create_customers"]
            try:
                with transaction.atomic():  # the import and its audit entry commit together
                    report = order_import_apply(
                        upload=upload, user=request.user, create_customers=create_customers
                    )
                    audit_record(
                        AuditEvent.Action.IMPORT,
                        request=request,
                        target=upload,
                        rows=report.created,
                        detail={"create_customers": create_customers},
                    )
            except OrderImportRejected as rejected:
                messages.error(
                    request,
                    _("%(count)d rows have errors: nothing was imported.")
                    % {"count": rejected.report.error_rows},
                )
            except DealRuleError as error:
                messages.warning(request, str(error))
            else:
                messages.success(
                    request,
                    _("%(created)d orders imported, %(existing)d were already present.")
                    % {"created": report.created, "existing": report.already_present},
                )
            return redirect(upload)
    context = {
        "upload": upload,
        "apply_form": apply_form,
        "can_create_customers": can_create_customers,
        "columns": [],
        "sample_rows": SAMPLE_ROWS,
        "max_errors": MAX_ERRORS,
    }
    if upload.status == OrderImport.Status.PENDING:
        report = order_import_preview_report(upload)
        context.update(
            {
                "report": report,
                "columns": report.columns,
                "errors": sorted(report.errors, key=lambda error: error.line),
                "importable": not report.other_error_rows
                and (not report.unknown_customer_rows or can_create_customers),
            }
        )
    return render(request, "sales/order_import_preview.html", context)
