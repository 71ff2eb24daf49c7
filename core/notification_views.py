"""The bell's pages: the list (mark one or all read, open one), the badge, and preferences."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import NotificationPreferencesForm
from core.notifications import (
    notification_mark_read,
    notifications_for,
    notifications_mark_all_read,
    preferences_of,
    preferences_save,
    unread_count,
)
from crm.lib.http import AuthenticatedHttpRequest, safe_next_url

PAGE_SIZE = 25


def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    has_unread = any(n.read_at is None for n in page)
    return render(request, "core/notifications.html", {"page": page, "has_unread": has_unread})


def notification_badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The bell with its unread count: loaded after each page, then every minute."""
    context = {"count": unread_count(request.user)}
    return render(request, "core/partials/notification_bell.html", context)


def _own(request: AuthenticatedHttpRequest, pk: int):
    return get_object_or_404(notifications_for(request.user), pk=pk)  # another's: 404


def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = _own(request, pk)
    notification_mark_read(notification=notification)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications:list")


@require_POST
def notification_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification_mark_read(notification=_own(request, pk))
    return redirect(safe_next_url(request, fallback=reverse("notifications:list")))


@require_POST
def notification_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect("notifications:list")


@require_http_methods(["GET", "POST"])
def notification_preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = preferences_of(request.user)
    form = NotificationPreferencesForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        preferences_save(user=request.user, choices=form.cleaned_data)
        messages.success(request, _("Notification preferences saved."))
        return redirect("notifications:preferences")
    return render(request, "core/notification_preferences.html", {"form": form})
