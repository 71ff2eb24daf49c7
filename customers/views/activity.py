"""Logging interactions, adding and completing tasks, and the "My tasks" page."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import ContactForm, InteractionForm, TaskForm
from customers.selectors import (
    assignable_users,
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
    interaction_log(customer=customer, logged_by=request.user, mentions=True, **form.cleaned_data)
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
    return render(request, HOME_TASKS_PANEL, home_tasks_context(request, None))


HOME_TASKS_PANEL = "customers/partials/home_tasks_panel.html"


def home_tasks_context(request, _page_object=None) -> dict:
    """The home page's panel: overdue and upcoming open tasks."""
    tasks = list(tasks_for(request.user).filter(done=False)[:8])
    return {"tasks": tasks, "today": timezone.localdate()}


def task_badge(request):
    """The open-task count beside "My tasks", refreshed by htmx when tasks change."""
    return render(request, "customers/partials/task_badge.html")
