"""The exports page: the user's background exports, their progress, and the one download."""

from collections.abc import Iterator

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.export_services import ExportGoneError, export_file_discard, export_file_take
from core.models import ExportFile
from core.selectors import exports_of

CHUNK = 64 * 1024


def exports_page(request: HttpRequest) -> HttpResponse:
    jobs = list(exports_of(request.user))
    context = {"jobs": jobs, "active": any(job.status in ExportFile.ACTIVE for job in jobs)}
    if request.headers.get("HX-Request"):  # the page polls its list while a job runs
        return render(request, "core/partials/export_list.html", context)
    return render(request, "core/exports.html", context)


@require_POST
def export_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file, once: it is marked downloaded first and deleted when the response ends."""
    try:
        job = export_file_take(pk=pk, user=request.user)  # type: ignore[arg-type]  # logged in
    except ExportGoneError as error:
        messages.warning(request, str(error))
        return redirect("core:exports")
    response = StreamingHttpResponse(_read_then_discard(job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return response


def _read_then_discard(job: ExportFile) -> Iterator[bytes]:
    try:
        with default_storage.open(str(job.file.name), "rb") as stored:
            while chunk := stored.read(CHUNK):
                yield chunk
    finally:  # runs when the response is closed, also after a broken connection
        export_file_discard(pk=job.pk)
