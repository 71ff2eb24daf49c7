"""The admins' jobs page (issue 12): is anything stuck or failing, and what ran last."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm.lib.readiness import FAIL, readiness
from integrations import jobs


def jobs_view(request: HttpRequest) -> HttpResponse:
    """Staff only: it shows email addresses and errors of every app's jobs."""
    if not request.user.is_staff:
        raise PermissionDenied
    checks = readiness()
    context = {
        "checks": checks,
        "ready": FAIL not in checks.values(),
        "beat_tasks": jobs.beat_tasks(),
        "segment_runs": jobs.troubled_segment_runs(),
        "campaign_sends": jobs.troubled_campaign_sends(),
        "customer_imports": jobs.waiting_customer_imports(),
        "outbox_counts": jobs.outbox_counts(),
        "outbox_problems": jobs.outbox_problems(),
        "mailboxes": jobs.mailboxes(),
    }
    return render(request, "integrations/jobs.html", context)
