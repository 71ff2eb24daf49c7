"""Validation of the agents' ticket input; forms never save (service.services does)."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from core.attachment_forms import MultipleFileField
from crm.lib.forms import IdListField, VersionField
from crm.lib.params import BoundedModelChoiceField, BoundedModelMultipleChoiceField
from customers.models import Tag
from service.filters import ticket_agents
from service.models import Macro, Priority, Team, Ticket

MAX_SELECTED = 500


def _text(value: str, message) -> str:
    value = value.strip()
    if not value:
        raise forms.ValidationError(message)
    return value


def style_widgets(form) -> None:
    """Bootstrap classes, for forms the ticket page renders without crispy (it was 40% of the
    page's server time)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            # Django puts a widget's class on the choices' wrapper <div> too, where
            # Bootstrap's form-check-input shrank it to 1em and the choices spilled over
            # the Save button; crm.css styles these choices instead (.inline-checks).
            continue
        css = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class TicketCreateForm(forms.Form):
    """A ticket an agent takes on the phone, by email, in person; the customer is chosen before."""

    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        error_messages={"required": _("Give the ticket a subject.")},
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Describe the customer's request.")},
    )
    contact = BoundedModelChoiceField(label=_("Contact"), queryset=None, required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Ticket.Channel.choices, initial=Ticket.Channel.PHONE
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=Ticket.Category.choices, initial=Ticket.Category.QUESTION
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    assignee = BoundedModelChoiceField(label=_("Assignee"), queryset=None, required=False)
    team = BoundedModelChoiceField(label=_("Team queue"), queryset=None, required=False)
    tags = BoundedModelMultipleChoiceField(
        label=_("Tags"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.order_by("name", "id")
        self.fields["contact"].empty_label = _("No contact")
        self.fields["assignee"].queryset = ticket_agents()
        self.fields["assignee"].empty_label = _("Unassigned")
        self.fields["team"].queryset = Team.objects.all()
        self.fields["team"].empty_label = _("Default queue")
        self.fields["tags"].queryset = Tag.objects.all()

    def clean_subject(self):
        return _text(self.cleaned_data["subject"], _("Give the ticket a subject."))

    def clean_description(self):
        return _text(self.cleaned_data["description"], _("Describe the customer's request."))

    def ticket_fields(self) -> dict:
        """The valid form as service.services.ticket_create's keywords (the page and the API)."""
        fields = {name: self.cleaned_data[name] for name in self.fields if name != "tags"}
        return {**fields, "tags": list(self.cleaned_data["tags"])}


REPLY_MAX_FILES = 10


class ReplyForm(forms.Form):
    """The one form of the ticket page's answer: the reply or note, its files, and what
    happens to the ticket with it (a status, a macro's actions)."""

    PUBLIC, INTERNAL = "public", "internal"

    kind = forms.ChoiceField(
        label=_("Send as"),
        choices=[(PUBLIC, _("Public reply")), (INTERNAL, _("Internal note"))],
        initial=PUBLIC,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=20_000,
        required=False,  # a status change alone needs no text
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    then_status = forms.ChoiceField(
        label=_("Then set the status"),
        choices=[("", _("Keep the status")), *Ticket.Status.choices],
        required=False,
    )
    macro = BoundedModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    # Last in the form: the limits stop reading files while they stream in, and the fields
    # sent before them (what the agent typed) still arrive to be shown again.
    attachments = MultipleFileField(max_files=REPLY_MAX_FILES)

    def __init__(self, *args, macros: QuerySet | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_draft = False  # the page says so when it restored the agent's draft
        macro = self.fields["macro"]
        assert isinstance(macro, forms.ModelChoiceField)  # as declared above
        macro.queryset = macros if macros is not None else Macro.objects.none()
        macro.error_messages["invalid_choice"] = _("This macro is no longer available.")
        style_widgets(self)

    def clean(self):
        data = super().clean()
        body = (data.get("body") or "").strip()
        data["body"] = body
        changes = data.get("then_status") or data.get("macro")
        if not body and not changes and "body" not in self.errors:
            self.add_error("body", _("Write a message first."))
        if not body and data.get("attachments"):
            self.add_error("body", _("Write a message to go with the files."))
        return data

    @property
    def internal(self) -> bool:
        return self.cleaned_data["kind"] == self.INTERNAL


class TicketUpdateForm(forms.Form):
    """The ticket page's side form; the version detects a concurrent edit."""

    # Not on the ticket page any more (the reply form sets it, so a typed reply goes with
    # it); the API and older pages may still send it. Empty: the status stays.
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    assignee = BoundedModelChoiceField(label=_("Assignee"), queryset=None, required=False)
    team = BoundedModelChoiceField(label=_("Team queue"), queryset=None, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Ticket.Category.choices)
    root_cause = forms.ChoiceField(
        label=_("Root cause"),
        choices=[("", _("Not known yet")), *Ticket.RootCause.choices],
        required=False,
        help_text=_("Required to resolve a complaint."),
    )
    tags = BoundedModelMultipleChoiceField(
        label=_("Tags"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    version = VersionField(required=False)  # missing: the service refuses it as a conflict
    # The reply box's text, copied in as the side form is sent (static/js/service_ticket.js):
    # it is kept as the agent's draft, so saving the ticket never loses a typed reply.
    reply_draft = forms.CharField(
        required=False, max_length=20_000, strip=False, widget=forms.HiddenInput
    )
    reply_kind = forms.CharField(required=False, max_length=10, widget=forms.HiddenInput)

    def __init__(
        self, data: QueryDict | None = None, *, ticket: Ticket, tags: list[Tag] | None = None
    ) -> None:
        initial = {
            "status": ticket.status,
            "priority": ticket.priority,
            "assignee": ticket.assignee_id,
            "team": ticket.team_id,
            "category": ticket.category,
            "root_cause": ticket.root_cause,
            "tags": [tag.pk for tag in (tags if tags is not None else ticket.tags.all())],
            "version": ticket.version,
        }
        super().__init__(data, initial=initial)
        self.ticket = ticket
        # The current assignee stays selectable even if they no longer work tickets.
        agents = ticket_agents()
        if ticket.assignee_id:
            agents = get_user_model().objects.filter(
                Q(pk__in=agents.values("pk")) | Q(pk=ticket.assignee_id)
            )
        assignee, team, tag_choice = (
            self.fields["assignee"],
            self.fields["team"],
            self.fields["tags"],
        )
        assert isinstance(assignee, forms.ModelChoiceField)  # as declared above
        assert isinstance(team, forms.ModelChoiceField)
        assert isinstance(tag_choice, forms.ModelMultipleChoiceField)
        assignee.queryset = agents.order_by("username")
        assignee.empty_label = _("Unassigned")
        team.queryset = Team.objects.all()
        team.empty_label = _("No team")
        tag_choice.queryset = Tag.objects.all()
        style_widgets(self)

    def clean(self):
        data = super().clean()
        # As the service does: checked when the ticket is being resolved or closed.
        status = data.get("status")
        resolving = status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
        if (
            resolving
            and status != self.ticket.status
            and data.get("category") == Ticket.Category.COMPLAINT
            and not data.get("root_cause")
        ):
            self.add_error("root_cause", _("Record the root cause to resolve a complaint."))
        return data


class BulkForm(forms.Form):
    ASSIGN, ASSIGN_ME, STATUS = "assign", "assign_me", "status"

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            (ASSIGN_ME, _("Assign to me")),
            (ASSIGN, _("Assign to")),
            (STATUS, _("Change status")),
        ],
    )
    selected = IdListField(required=False)
    assignee = BoundedModelChoiceField(label=_("Assignee"), queryset=None, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Choose…")), *Ticket.Status.choices], required=False
    )
    next = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = ticket_agents()
        self.fields["assignee"].empty_label = _("Choose…")
        for name in ("action", "assignee", "status"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def clean_selected(self):
        selected = self.cleaned_data["selected"]
        if not selected:
            raise forms.ValidationError(_("Select at least one ticket first."))
        if len(selected) > MAX_SELECTED:
            raise forms.ValidationError(_("Select at most %(n)d tickets.") % {"n": MAX_SELECTED})
        return selected

    def clean(self):
        data = super().clean()
        if data.get("action") == self.STATUS and not data.get("status"):
            self.add_error("status", _("Choose the new status."))
        if data.get("action") == self.ASSIGN and not data.get("assignee"):
            self.add_error("assignee", _("Choose who gets the tickets."))
        return data
