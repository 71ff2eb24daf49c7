"""“Recompute now” and the run's progress display (htmx fragments on the segments page)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.selectors import active_run, latest_run, runs_visible_to
from analytics.services import RunAlreadyActive, RunNotActive, run_cancel, run_request
from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.tasks import publish_report

STATUS_TEMPLATE = "analytics/partials/run_status.html"


@permission_required("analytics.run_segments", raise_exception=True)
@require_POST
def recompute(request):
    """Queue a run; htmx gets the progress display in place of the old one."""
    refused = None
    try:
        with publish_report() as report:
            run = run_request(requested_by=request.user)
    except RunAlreadyActive as error:
        refused, run = str(error), active_run() or latest_run()
    if run is not None:
        run.refresh_from_db()  # with tasks inline, it has run already
    # The broker did not take the run's task: the service failed the run at once, saying why.
    not_published = not refused and bool(report.failed) and run is not None
    if not request.htmx:
        if refused:
            messages.error(request, refused)
        elif not_published and run is not None:
            messages.error(request, run.error)
        else:
            messages.success(request, _("The segment run is queued."))
        return redirect("analytics:segments")
    # A refusal is still a 200: htmx swaps only successful responses, and the fragment
    # carries the message beside the run that is going (a failed run shows its error).
    response = render(request, STATUS_TEMPLATE, {"run": run, "refused": refused})
    if not refused and run is not None and run.status == run.Status.SUCCEEDED:
        # With tasks inline the run is over already and nothing polls: reload the page so
        # its header count and tables show the new run, as the poll does when a run ends.
        response["HX-Refresh"] = "true"
    return response


@permission_required("analytics.view_segmentrun", raise_exception=True)
@require_GET
def run_status(request, pk):
    """The progress display; polled every second while the run is queued or running."""
    run = get_object_or_404(runs_visible_to(request.user), pk=pk)
    if request.GET.get("poll") and not run.is_active:
        # The run just ended: reload the dashboard so it shows the new figures.
        response = render(request, STATUS_TEMPLATE, {"run": run})
        response["HX-Refresh"] = "true"
        return response
    return render(request, STATUS_TEMPLATE, {"run": run})


@permission_required("analytics.run_segments", raise_exception=True)
@require_POST
def cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Cancel the queued or running run (its worker may be gone); htmx gets the display."""
    run = get_object_or_404(runs_visible_to(request.user), pk=pk)
    refused = None
    try:
        run_cancel(run=run, by=request.user)
    except RunNotActive as error:
        refused = str(error)
        run.refresh_from_db()
    if not request.htmx:
        if refused:
            messages.warning(request, refused)
        else:
            messages.success(request, _("The segment run is cancelled."))
        return redirect("analytics:segments")
    return render(request, STATUS_TEMPLATE, {"run": run, "refused": refused})
