"""Validation of the macro pages' input (service.macros saves)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib.params import BoundedModelChoiceField, BoundedModelMultipleChoiceField
from crm.lib.template_sandbox import field_list
from customers.models import Tag
from service.filters import ticket_agents
from service.macros import MACRO_FIELDS, check_macro_body
from service.models import Priority, Ticket


class MacroForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    body = forms.CharField(
        label=_("Text"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    shared = forms.BooleanField(
        label=_("Shared with every agent"),
        required=False,
        help_text=_("Only managers share macros; a personal macro is seen by you alone."),
    )
    set_status = forms.ChoiceField(
        label=_("Set status"),
        choices=[("", _("Leave as it is")), *Ticket.Status.choices],
        required=False,
    )
    set_priority = forms.ChoiceField(
        label=_("Set priority"),
        choices=[("", _("Leave as it is")), *Priority.choices],
        required=False,
    )
    set_assignee = BoundedModelChoiceField(label=_("Assign to"), queryset=None, required=False)
    tags = BoundedModelMultipleChoiceField(
        label=_("Add tags"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, may_share: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = _("Personalisation fields: %(fields)s") % {
            "fields": field_list(MACRO_FIELDS)
        }
        assignee, tags = self.fields["set_assignee"], self.fields["tags"]
        assert isinstance(assignee, forms.ModelChoiceField)  # as declared above
        assert isinstance(tags, forms.ModelMultipleChoiceField)
        assignee.queryset = ticket_agents().order_by("username")
        assignee.empty_label = _("Leave as it is")
        tags.queryset = Tag.objects.order_by("name")
        if not may_share:
            del self.fields["shared"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the macro a name."))
        return name

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError(_("Write the macro's text."))
        check_macro_body(body)
        return body

    def macro_fields(self) -> dict:
        """service.macros.macro_save's keywords."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "body": data["body"],
            "shared": bool(data.get("shared")),
            "set_status": data["set_status"],
            "set_priority": data["set_priority"],
            "set_assignee": data["set_assignee"],
            "tags": list(data["tags"]),
        }


class MacroListForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
