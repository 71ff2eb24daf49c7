"""Pages that belong to no single app: the home page, the liveness and readiness checks."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static

from crm.lib.panels import HOME_PAGE, panels_in_page
from crm.lib.readiness import FAIL, readiness
from crm.roles import ROLE_LABELS


def home(request):
    roles = [str(ROLE_LABELS.get(g.name, g.name)) for g in request.user.groups.all()]
    if request.user.is_superuser and not roles:
        roles = [str(ROLE_LABELS["Admin"])]
    # Panels render inside this request: one round trip, one session and user lookup,
    # instead of a request per panel (the manager's first load was 0.9 s, issue 16).
    panels = panels_in_page(HOME_PAGE, request, None)
    return render(request, "home.html", {"roles": roles, "panels": panels})


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links (the 500 page, a bookmark)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@login_not_required
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness (crm/lib/readiness.py): 200 when every check passes or is skipped, else 503.

    Public, and not rate limited: a load balancer or monitor polls it every few seconds. It
    shows check names and ok/fail/skipped only.
    """
    checks = readiness()
    failed = FAIL in checks.values()
    response = JsonResponse(
        {"status": FAIL if failed else "ok", "checks": checks}, status=503 if failed else 200
    )
    response["Cache-Control"] = "no-store"
    return response
