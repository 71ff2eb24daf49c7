"""Pages that belong to no single app: the home page and the health check."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render

from crm.lib.panels import HOME_PAGE, panels_for
from crm.roles import ROLE_LABELS


def home(request):
    roles = [str(ROLE_LABELS.get(g.name, g.name)) for g in request.user.groups.all()]
    if request.user.is_superuser and not roles:
        roles = [str(ROLE_LABELS["Admin"])]
    return render(
        request, "home.html", {"roles": roles, "panels": panels_for(HOME_PAGE, request.user)}
    )


@login_not_required
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
