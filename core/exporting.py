"""Every CSV export goes through `export_response`: audited, and large ones in the background.

    return export_response(request, build_customer_export(request.user, request.GET))

The export is written to the audit log (who, which source, which filter and layout, how
many rows, from where). Up to CRM_EXPORT_BACKGROUND_ROWS rows are streamed at once; more
become an ExportFile job and the user is sent to the exports page, where the file is
downloaded once.
"""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.export_services import export_file_create
from core.models import AuditEvent
from crm.lib.csv_export import streaming_csv_response
from crm.lib.exports import ExportTable
from crm.lib.tasks import QUEUED_UNTIL_BROKER_IS_BACK, publish_report


def export_response(request: HttpRequest, table: ExportTable) -> HttpResponseBase:
    rows = table.count()
    background = rows > settings.CRM_EXPORT_BACKGROUND_ROWS
    with publish_report() as report, transaction.atomic():
        audit_record(
            AuditEvent.Action.EXPORT,
            request=request,
            target=table.model,
            rows=rows,
            detail={"source": table.source, "background": background, **table.detail},
        )
        if background:
            export_file_create(owner=request.user, table=table, rows=rows)  # type: ignore[arg-type]  # logged in
    if not background:
        return streaming_csv_response(
            table.lines(), filename=table.filename, bom=table.bom, content_type=table.content_type
        )
    messages.info(
        request,
        _("%(rows)s rows: the file is being written. Download it here once it is ready.")
        % {"rows": number_format(rows, force_grouping=True)},
    )
    if report.failed:
        messages.warning(request, QUEUED_UNTIL_BROKER_IS_BACK)
    return redirect("core:exports")


def audit_small_export(request: HttpRequest, *, source: str, rows: int, detail: dict) -> None:
    """For a download built in memory (a report's table): recorded, never in the background."""
    audit_record(
        AuditEvent.Action.EXPORT,
        request=request,
        rows=rows,
        detail={"source": source, "background": False, **detail},
    )
