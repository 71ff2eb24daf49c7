"""My tasks grouped by when they are due, completing with undo, snoozing, meetings and the
personal calendar feed."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.lib.http import AuthenticatedHttpRequest, querystring_without, safe_next_url
from customers.calendar import calendar_feed_reset, calendar_ics, feed_url, user_for_token
from customers.forms import TaskListForm
from customers.meeting_forms import MeetingForm, SnoozeForm
from customers.meetings import meeting_schedule
from customers.models import Task
from customers.reminders import task_snooze
from customers.selectors import (
    assignable_users,
    can_change_task,
    can_work_customer,
    customers_visible_to,
    tasks_for,
)
from customers.services import task_set_done

UNDO_SECONDS = 5


@dataclass
class TaskGroup:
    key: str
    label: str
    tasks: list[Task]


GROUPS = [
    ("overdue", gettext_lazy("Overdue")),
    ("today", gettext_lazy("Today")),
    ("later", gettext_lazy("Later")),
    ("done", gettext_lazy("Done")),
]


def _group_of(task: Task, today) -> str:
    if task.done:
        return "done"
    if task.is_overdue:
        return "overdue"
    return "today" if task.due_date == today else "later"


def grouped(tasks: list[Task]) -> list[TaskGroup]:
    today = timezone.localdate()
    groups = {key: TaskGroup(key, str(label), []) for key, label in GROUPS}
    for task in tasks:
        groups[_group_of(task, today)].tasks.append(task)
    return [group for group in groups.values() if group.tasks]


@permission_required("customers.view_task", raise_exception=True)
def my_tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's tasks; a manager may look at someone else's (?assignee=, from the team
    view), and at the overdue ones only (?overdue=true)."""
    show = request.GET.get("show", "open")
    task_filter = TaskListForm(request.GET, assignees=assignable_users(request.user))
    options = task_filter.cleaned_data if task_filter.is_valid() else {}
    assignee = options.get("assignee") or request.user
    tasks = tasks_for(assignee).order_by("done", "due_date", "due_time", "id")
    if show != "all" or options.get("overdue"):
        tasks = tasks.filter(done=False)
    if options.get("overdue"):
        tasks = tasks.filter(due_date__lt=timezone.localdate())
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "groups": grouped(list(page)),
        "show": show,
        "assignee": assignee if assignee != request.user else None,
        "overdue": bool(options.get("overdue")),
        "query": querystring_without(request.GET, "page"),
    }
    return render(request, "customers/my_tasks.html", context)


def _changeable_task(request: HttpRequest, pk: int) -> Task:
    task = get_object_or_404(Task.objects.select_related("customer"), pk=pk)
    if not can_change_task(request.user, task):
        raise PermissionDenied
    return task


def _row(request: HttpRequest, task: Task, *, undo: bool = False) -> HttpResponse:
    context = {"task": task, "undo": undo, "undo_seconds": UNDO_SECONDS}
    response = render(request, "customers/partials/task_row.html", context)
    response["HX-Trigger"] = "tasksChanged"
    return response


@require_POST
def task_toggle_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Done or reopened; htmx gets the row back, a just-completed one with "Undo"."""
    task = _changeable_task(request, pk)
    task_set_done(task=task, done=request.POST.get("done") == "1")
    if request.htmx:  # type: ignore[attr-defined]
        return _row(request, task, undo=task.done)
    if task.done:
        messages.success(request, _("Task “%(title)s” done.") % {"title": task.title})
    return redirect(safe_next_url(request, fallback=task.customer.get_absolute_url()))


@require_POST
def task_snooze_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _changeable_task(request, pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid() or task.done:
        return HttpResponse(status=422) if request.htmx else redirect("customers:my-tasks")  # type: ignore[attr-defined]
    task_snooze(task=task, choice=form.cleaned_data["until"])
    if request.htmx:  # type: ignore[attr-defined]
        return _row(request, task)
    messages.success(request, _("Task “%(title)s” snoozed.") % {"title": task.title})
    return redirect(safe_next_url(request, fallback=task.customer.get_absolute_url()))


@require_http_methods(["GET", "POST"])
def meeting_create_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if not can_work_customer(request.user, customer):
        raise PermissionDenied
    colleagues = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(pk=request.user.pk)
        .order_by("username")
    )
    form = MeetingForm(request.POST or None, customer=customer, colleagues=colleagues)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        meeting_schedule(
            customer=customer,
            organizer=request.user,
            summary=data["summary"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            attendees=data["attendees"],
            contacts=data["contacts"],
        )
        messages.success(request, _("Meeting scheduled."))
        return redirect(customer)
    return render(request, "customers/meeting_form.html", {"form": form, "customer": customer})


@never_cache
@require_http_methods(["GET", "POST"])
def calendar_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's secret feed URL and the button that replaces it."""
    if request.method == "POST":
        calendar_feed_reset(user=request.user)
        messages.success(request, _("A new calendar link was made; the old one no longer works."))
        return redirect("customers:calendar")
    return render(request, "customers/calendar.html", {"feed_url": feed_url(request.user, request)})


@login_not_required
@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    user = user_for_token(token)
    if user is None:
        raise Http404
    body = calendar_ics(user, domain=request.get_host().split(":")[0] or "crm")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm.ics"'
    return response
