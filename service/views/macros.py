"""The macros pages: the list (the agent's own and the shared ones), create, edit, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.params import search_text
from service.macro_forms import MacroForm
from service.macros import (
    macro_actions,
    macro_delete,
    macro_save,
    macros_editable_by,
    macros_visible_to,
)
from service.models import Macro

MAX_LISTED = 500


def _editable(request: AuthenticatedHttpRequest, pk: int) -> Macro:
    """404 for another agent's personal macro (and for a shared one an agent may not edit)."""
    macro = macros_editable_by(request.user).filter(pk=pk).first()
    if macro is None:
        raise Http404
    return macro


@permission_required("service.view_macro", raise_exception=True)
def macro_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = search_text(request.GET)
    macros = macros_visible_to(request.user).select_related("owner", "set_assignee")
    if query:
        macros = macros.filter(name__icontains=query) | macros.filter(body__icontains=query)
    macros = macros.prefetch_related("add_tags").order_by("name", "id")[:MAX_LISTED]
    editable = set(macros_editable_by(request.user).values_list("pk", flat=True))
    rows = [
        {"macro": macro, "actions": macro_actions(macro), "editable": macro.pk in editable}
        for macro in macros
    ]
    return render(request, "service/macro_list.html", {"rows": rows, "query": query})


def _initial(macro: Macro) -> dict:
    return {
        "name": macro.name,
        "body": macro.body,
        "shared": macro.shared,
        "set_status": macro.set_status,
        "set_priority": macro.set_priority,
        "set_assignee": macro.set_assignee_id,
        "tags": [tag.pk for tag in macro.add_tags.all()],
    }


def _edit(request: AuthenticatedHttpRequest, macro: Macro | None) -> HttpResponse:
    may_share = request.user.has_perm("service.share_macro")
    initial = _initial(macro) if macro else {}
    form = MacroForm(request.POST or None, initial=initial, may_share=may_share)
    if request.method == "POST" and form.is_valid():
        fields = form.macro_fields()
        if not may_share:  # an agent's edit keeps a macro as it was: their own
            fields["shared"] = False
        saved = macro_save(user=request.user, macro=macro, **fields)
        messages.success(request, _("Macro “%(name)s” saved.") % {"name": saved.name})
        return redirect("service:macro-list")
    status = 422 if request.method == "POST" else 200
    return render(request, "service/macro_form.html", {"form": form, "macro": macro}, status=status)


@permission_required("service.add_macro", raise_exception=True)
@require_http_methods(["GET", "POST"])
def macro_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _edit(request, None)


@permission_required("service.change_macro", raise_exception=True)
@require_http_methods(["GET", "POST"])
def macro_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _edit(request, _editable(request, pk))


@permission_required("service.delete_macro", raise_exception=True)
@require_http_methods(["GET", "POST"])
def macro_delete_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    macro = _editable(request, pk)
    if request.method == "POST":
        macro_delete(user=request.user, macro=macro)
        messages.success(request, _("Macro “%(name)s” deleted.") % {"name": macro.name})
        return redirect("service:macro-list")
    return render(request, "service/macro_confirm_delete.html", {"macro": macro})
