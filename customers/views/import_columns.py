"""The import's column-mapping step, and the rejected rows of an import as a CSV file."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.lib.csv_export import csv_file_response
from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.uploads import ImportFileError
from customers.forms import ColumnMappingForm
from customers.import_csv import read_upload
from customers.import_mapping import (
    file_header,
    guess_column,
    held_upload,
    release_upload,
    remap,
)
from customers.import_preview import import_preview
from customers.import_services import customer_import_create
from customers.importing import imports_of, rows_not_imported
from customers.models import CustomerImport


@permission_required("customers.import_customers", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_import_columns(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Step 1b: the file's headers differ from the layout; say which field each column is."""
    held = held_upload(request.user.pk)
    if held is None:
        messages.warning(request, _("No uploaded file is waiting for its columns; upload it."))
        return redirect("customers:customer-import")
    try:
        headers = file_header(held["text"])
    except ImportFileError as error:  # held before the limits: refuse it now
        release_upload(request.user.pk)
        messages.error(request, " ".join(error.messages))
        return redirect("customers:customer-import")
    form = ColumnMappingForm(
        request.POST if request.method == "POST" else None,
        headers=headers,
        guesses=[guess_column(header) for header in headers],
    )
    if request.method == "POST" and form.is_valid():
        try:
            text, parsed = read_upload(remap(held["text"], form.mapping()).encode())
            customer_import = customer_import_create(
                user=request.user,
                file_name=held["file_name"],
                text=text,
                row_count=len(parsed.rows),
            )
        except ImportFileError as error:
            form.add_error(None, error.messages)
        except ValidationError as error:  # too many imports waiting
            form.add_error(None, error)
        else:
            release_upload(request.user.pk)
            return redirect(customer_import)
    context = {"form": form, "file_name": held["file_name"]}
    return render(
        request,
        "customers/customer_import_columns.html",
        context,
        status=422 if form.errors else 200,
    )


@permission_required("customers.import_customers", raise_exception=True)
def customer_import_rejected(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The rows an import rejected (or would reject), each with its errors, to correct and
    import again: the file's columns, then an error column."""
    customer_import = get_object_or_404(imports_of(request.user), pk=pk)
    if customer_import.status == CustomerImport.Status.APPLIED:
        columns, rows = rows_not_imported(customer_import)
    else:
        try:
            preview = import_preview(customer_import, user=request.user)
        except ImportFileError:
            columns, rows = [], []
        else:
            columns, rows = preview.columns, list(preview.rows_with("errors"))
    lines = [[*columns, "error"]]
    for row in rows:
        errors = "; ".join(
            f"{column}: {message}" if column else str(message)
            for column, messages_ in row.errors.items()
            for message in messages_
        )
        lines.append([*(row.cells.get(column, "") for column in columns), errors])
    return csv_file_response(lines, filename=f"customers-rejected-{customer_import.pk}.csv")
