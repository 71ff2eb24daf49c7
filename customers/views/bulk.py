"""Actions on many customers at once, saved views and merging duplicates."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.audit import audit_record
from core.models import AuditEvent
from crm.lib.forms import IdListField, offer_choices
from customers.filters import CustomerFilter
from customers.forms import SavedViewForm
from customers.models import Customer, SavedView, Tag
from customers.selectors import customer_owners, customers_editable_by, customers_visible_to
from customers.services import (
    BulkAction,
    customers_bulk_update,
    saved_view_save,
)
from customers.services import saved_view_delete as delete_saved_view  # the view has the name
from customers.views.transfer import customer_export_response

MAX_SELECTED = 1000


class BulkActionForm(forms.Form):
    ACTIONS = [
        (BulkAction.ASSIGN_OWNER, gettext_lazy("Assign owner")),
        (BulkAction.ADD_TAG, gettext_lazy("Add tag")),
        (BulkAction.REMOVE_TAG, gettext_lazy("Remove tag")),
        (BulkAction.SET_STAGE, gettext_lazy("Change lifecycle stage")),
        ("export", gettext_lazy("Export to CSV")),
    ]
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=ACTIONS)
    scope = forms.ChoiceField(
        label=gettext_lazy("Apply to"),
        choices=[
            ("selected", gettext_lazy("Selected rows")),
            ("all", gettext_lazy("Every row the filter matches")),
        ],
        initial="selected",
    )
    selected = IdListField(required=False)
    owner: "forms.ModelChoiceField[User]" = forms.ModelChoiceField(
        label=gettext_lazy("Owner"), queryset=None, required=False
    )
    tag = forms.CharField(label=gettext_lazy("Tag"), max_length=50, required=False)
    stage = forms.ChoiceField(
        label=gettext_lazy("Stage"),
        choices=[("", "---------"), *Customer.Stage.choices],
        required=False,
    )
    filter_query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    def __init__(self, *args, user, owners: list | None = None, **kwargs):
        """`owners`: customer_owners() when the page has read them already."""
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        stage_field = self.fields["stage"]
        assert isinstance(owner_field, forms.ModelChoiceField)  # as declared above
        assert isinstance(stage_field, forms.ChoiceField)
        owner_field.queryset = customer_owners()
        owner_field.empty_label = _("Choose…")
        if owners is not None:
            offer_choices(owner_field, owners)
        stage_field.choices = [("", _("Choose…")), *Customer.Stage.choices]
        for name in ("action", "scope", "owner", "stage"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["tag"].widget.attrs.update(
            {"class": "form-control form-control-sm", "list": "tag-names"}
        )
        if not user.has_perm("customers.change_any_customer"):
            action_field = self.fields["action"]
            assert isinstance(action_field, forms.ChoiceField)
            action_field.choices = [c for c in self.ACTIONS if c[0] != BulkAction.ASSIGN_OWNER]

    def clean_selected(self):
        selected = self.cleaned_data["selected"]
        if len(selected) > MAX_SELECTED:
            raise forms.ValidationError(
                _("Select at most %(n)d rows, or apply to every row the filter matches.")
                % {"n": MAX_SELECTED}
            )
        return selected

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if data.get("scope") == "selected" and not data.get("selected"):
            raise forms.ValidationError(_("Select at least one customer first."))
        required = {
            BulkAction.ASSIGN_OWNER: "owner",
            BulkAction.ADD_TAG: "tag",
            BulkAction.REMOVE_TAG: "tag",
            BulkAction.SET_STAGE: "stage",
        }.get(action)
        if required and not data.get(required):
            self.add_error(required, _("Choose a value for this action."))
        return data

    def value(self) -> User | Tag | str | None:
        """What customers_bulk_update takes: the owner, the stage, the name of a tag to add
        (the service makes it if new), or the tag to remove (None if no tag has that name)."""
        action = self.cleaned_data["action"]
        if action == BulkAction.ASSIGN_OWNER:
            return self.cleaned_data["owner"]
        if action == BulkAction.SET_STAGE:
            return self.cleaned_data["stage"]
        if action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG):
            name = self.cleaned_data["tag"].strip()
            if action == BulkAction.ADD_TAG:
                return name
            return Tag.objects.filter(name=name).first()
        return None


def bulk_target(request: HttpRequest, form: BulkActionForm) -> QuerySet[Customer]:
    """The customers the bulk form points at, as the filtered list showed them."""
    visible = customers_visible_to(request.user)
    if form.cleaned_data["scope"] == "all":
        params = QueryDict(form.cleaned_data["filter_query"])
        return CustomerFilter(params, queryset=visible, request=request).qs
    return visible.filter(pk__in=form.cleaned_data["selected"])


def _export_params(form: BulkActionForm) -> QueryDict:
    """The bulk form's rows as the export's parameters: the list's filter, or the ids."""
    if form.cleaned_data["scope"] == "all":
        return QueryDict(form.cleaned_data["filter_query"])
    params = QueryDict(mutable=True)
    params.setlist("id", [str(pk) for pk in form.cleaned_data["selected"]])
    return params


def _bulk_detail(form: BulkActionForm, value: object) -> dict:
    """Which change on which rows, for the audit log: the filter or the ids, never a
    customer's personal values (a tag's name, a stage, an owner's username)."""
    shown = value.get_username() if isinstance(value, User) else str(value)
    detail = {"action": form.cleaned_data["action"], "value": shown}
    if form.cleaned_data["scope"] == "all":
        detail["filter"] = form.cleaned_data["filter_query"]
    else:
        detail["selected"] = form.cleaned_data["selected"]
    return detail


@permission_required("customers.view_customer", raise_exception=True)
@require_POST
def bulk_action_view(request):
    form = BulkActionForm(request.POST, user=request.user)
    back = reverse("customers:customer-list") + "?" + request.POST.get("filter_query", "")[:4000]
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)
    action = form.cleaned_data["action"]
    if action == "export":
        if not request.user.has_perm("customers.export_customers"):
            raise PermissionDenied
        return customer_export_response(request, _export_params(form))
    target = bulk_target(request, form)
    value = form.value()
    if value is None:  # removing a tag that does not exist changes nothing
        messages.info(request, _("No customer has that tag."))
        return redirect(back)
    editable = target.filter(pk__in=customers_editable_by(request.user).values("pk"))
    skipped = target.count() - editable.count()
    try:
        with transaction.atomic():  # the change and its audit entry commit together
            changed = customers_bulk_update(
                customers=editable, action=action, value=value, by=request.user
            )
            audit_record(
                AuditEvent.Action.BULK_CHANGE,
                request=request,
                target=Customer,
                rows=changed,
                detail=_bulk_detail(form, value),
            )
    except PermissionDenied as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(request, _("%(n)d customers updated.") % {"n": changed})
    if skipped:
        messages.warning(
            request,
            _("%(n)d customers were skipped because you may not change them.") % {"n": skipped},
        )
    return redirect(back)


@permission_required("customers.view_customer", raise_exception=True)
@require_POST
def saved_view_create(request):
    form = SavedViewForm(request.POST)
    if form.is_valid():
        view = saved_view_save(
            user=request.user,
            name=form.cleaned_data["name"].strip(),
            query=form.cleaned_data["query"],
        )
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
        return redirect(reverse("customers:customer-list") + "?" + view.query)
    messages.error(request, _("Give the view a name of at most 80 characters."))
    return redirect(reverse("customers:customer-list") + "?" + request.POST.get("query", "")[:2000])


@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk, user=request.user)
    delete_saved_view(view=view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect("customers:customer-list")
