"""Logging interactions, adding and completing tasks, and the "My tasks" page."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.lib.http import safe_next_url
from customers.forms import ContactForm, InteractionForm, TaskForm
from customers.models import Task
from customers.selectors import (
    assignable_users,
    can_change_task,
    can_edit_contact_details,
    can_work_customer,
    customers_visible_to,
    tasks_for,
)
from customers.services import (
    contact_delete,
    contact_save,
    interaction_log,
    task_create,
    task_set_done,
)
from customers.views.timeline import timeline_context


def _workable_customer(request, pk):
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if not can_work_customer(request.user, customer):
        raise PermissionDenied
    return customer


def _activity_response(request, customer, *, interaction_form=None, task_form=None, status=200):
    """After logging from the 360° page: htmx gets the refreshed activity block, others a redirect."""
    if not request.htmx:
        if status == 200:
            return redirect(customer)
        return render(
            request,
            "customers/activity_form_page.html",
            {"customer": customer, "interaction_form": interaction_form, "task_form": task_form},
            status=status,
        )
    context = {
        "customer": customer,
        **timeline_context(request, customer),
        "can_work": True,
        "interaction_form": interaction_form or InteractionForm(customer=customer),
        "task_form": task_form
        or TaskForm(assignees=assignable_users(request.user), initial={"assignee": request.user}),
    }
    return render(request, "customers/partials/activity.html", context, status=status)


@require_POST
def interaction_create_view(request, pk):
    customer = _workable_customer(request, pk)
    form = InteractionForm(request.POST, customer=customer)
    if not form.is_valid():
        return _activity_response(request, customer, interaction_form=form, status=422)
    interaction_log(customer=customer, logged_by=request.user, **form.cleaned_data)
    messages.success(request, _("Interaction logged."))
    return _activity_response(request, customer)


@require_POST
def task_create_view(request, pk):
    customer = _workable_customer(request, pk)
    form = TaskForm(request.POST, assignees=assignable_users(request.user))
    if not form.is_valid():
        return _activity_response(request, customer, task_form=form, status=422)
    task_create(customer=customer, created_by=request.user, **form.cleaned_data)
    messages.success(request, _("Task added."))
    response = _activity_response(request, customer)
    response["HX-Trigger"] = "tasksChanged"  # refreshes the task badge in the navigation
    return response


@require_POST
def task_toggle_view(request, pk):
    task = get_object_or_404(Task.objects.select_related("customer"), pk=pk)
    if not can_change_task(request.user, task):
        raise PermissionDenied
    task_set_done(task=task, done=request.POST.get("done") == "1")
    if task.done:
        messages.success(request, _("Task “%(title)s” done.") % {"title": task.title})
    return redirect(safe_next_url(request, fallback=task.customer.get_absolute_url()))


@permission_required("customers.view_task", raise_exception=True)
def my_tasks(request):
    show = request.GET.get("show", "open")
    tasks = tasks_for(request.user)
    if show != "all":
        tasks = tasks.filter(done=False)
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    context = {"page": page, "show": show, "today": timezone.localdate()}
    return render(request, "customers/my_tasks.html", context)


def _contact_editable_customer(request, pk, permission):
    customer = get_object_or_404(customers_visible_to(request.user), pk=pk)
    if not (request.user.has_perm(permission) and can_edit_contact_details(request.user, customer)):
        raise PermissionDenied
    return customer


@require_http_methods(["GET", "POST"])
def contact_create_view(request, pk):
    customer = _contact_editable_customer(request, pk, "customers.add_contact")
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact_save(customer=customer, data=form.cleaned_data)
        messages.success(request, _("Contact added."))
        return redirect(customer)
    return render(request, "customers/contact_form.html", {"form": form, "customer": customer})


@require_http_methods(["GET", "POST"])
def contact_update_view(request, pk, contact_pk):
    customer = _contact_editable_customer(request, pk, "customers.change_contact")
    contact = get_object_or_404(customer.contacts, pk=contact_pk)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        contact_save(customer=customer, contact=contact, data=form.cleaned_data)
        messages.success(request, _("Contact saved."))
        return redirect(customer)
    context = {"form": form, "customer": customer, "contact": contact}
    return render(request, "customers/contact_form.html", context)


@require_http_methods(["GET", "POST"])
def contact_delete_view(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = _contact_editable_customer(request, pk, "customers.delete_contact")
    contact = get_object_or_404(customer.contacts, pk=contact_pk)
    if request.method == "POST":
        contact_delete(contact=contact)
        messages.success(request, _("Contact “%(name)s” removed.") % {"name": contact.name})
        return redirect(customer)
    return render(
        request, "customers/contact_confirm_delete.html", {"customer": customer, "contact": contact}
    )


@permission_required("customers.view_task", raise_exception=True)
def home_tasks_panel(request):
    """The home page's panel: overdue and upcoming open tasks."""
    tasks = list(tasks_for(request.user).filter(done=False)[:8])
    context = {"tasks": tasks, "today": timezone.localdate()}
    return render(request, "customers/partials/home_tasks_panel.html", context)


def task_badge(request):
    """The open-task count beside "My tasks", refreshed by htmx when tasks change."""
    return render(request, "customers/partials/task_badge.html")
