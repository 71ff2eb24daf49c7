"""Validation and normalisation of customer input; forms never save."""

from datetime import timedelta

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from crm.lib.csv_import import ImportFileError
from crm.lib.forms import DateInput, DateTimeInput, VersionField, offer_choices
from crm.lib.params import BoundedModelChoiceField, IdField
from crm.lib.uploads import CsvUploadForm, decode_upload
from customers.choices import Reminder
from customers.csv_format import COLUMNS as CSV_COLUMNS
from customers.import_csv import read_upload
from customers.import_mapping import MAX_COLUMNS, needs_mapping
from customers.models import (
    CONTACT_DETAILS,
    Channel,
    Contact,
    Customer,
    CustomerImport,
    Interaction,
    SavedView,
    Tag,
    Task,
)
from customers.selectors import possible_duplicates
from customers.services import CUSTOMER_FIELDS

# The fields a service writes, then the relations the view passes on separately.
CUSTOMER_FORM_FIELDS = [*CUSTOMER_FIELDS, "owner", "tags"]
CONTACT_DETAIL_FIELDS = [
    *CONTACT_DETAILS,
    "preferred_channel",
]


def set_blank_label(form, names, label):
    """Replace Django's "---------" for optional choice fields with words."""
    for name in names:
        field = form.fields[name]
        field.choices = [("", label), *[c for c in field.choices if c[0] != ""]]


class DuplicateCheckMixin:
    """Warn when the email or phone already belongs to another customer; a tick saves anyway.
    The email is compared (and saved) trimmed and in lower case."""

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned_data = super().clean()
        self.check_duplicates(cleaned_data)
        return cleaned_data

    def add_duplicate_check(self):
        self.fields["confirm_duplicate"] = forms.BooleanField(
            label=_("Save anyway: this is not a duplicate"), required=False
        )

    def check_duplicates(self, cleaned_data):
        if cleaned_data.get("confirm_duplicate"):
            return
        exclude = self.instance.pk if self.instance else None
        matches = list(
            possible_duplicates(
                email=cleaned_data.get("email") or "",
                phone=cleaned_data.get("phone") or "",
                exclude_pk=exclude,
            )
        )
        if matches:
            links = format_html_join(
                ", ", '<a href="{}">{}</a>', ((c.get_absolute_url(), c.name) for c in matches)
            )
            raise forms.ValidationError(
                format_html(
                    "{} {}",
                    _("A customer with this email or phone already exists:"),
                    links,
                ),
                code="duplicate",
            )


class CustomerForm(DuplicateCheckMixin, forms.ModelForm):
    version = VersionField(required=False)
    consent = forms.MultipleChoiceField(
        label=_("Marketing consent"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Channels on which the customer agreed to receive marketing."),
    )

    class Meta:
        model = Customer
        fields = CUSTOMER_FORM_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "tags": forms.CheckboxSelectMultiple}

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["tags"].queryset = Tag.objects.all()
        self.fields["tags"].required = False
        set_blank_label(self, ["company_size", "preferred_channel", "language"], _("Not set"))
        self.fields["owner"].empty_label = _("Nobody")
        self.add_duplicate_check()
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["consent"].initial = [
                c.channel for c in self.instance.consents.all() if c.granted
            ]

    def clean_name(self):
        return self.cleaned_data["name"].strip()


class ContactDetailsForm(DuplicateCheckMixin, forms.ModelForm):
    """What a service agent may change on any customer: how to reach them."""

    version = VersionField(required=False)

    class Meta:
        model = Customer
        fields = CONTACT_DETAIL_FIELDS

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        set_blank_label(self, ["preferred_channel"], _("Not set"))
        self.add_duplicate_check()
        self.fields["version"].initial = self.instance.version


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["channel", "direction", "occurred_at", "contact", "summary"]
        widgets = {"occurred_at": DateTimeInput(), "summary": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, customer: Customer, contacts: list[Contact] | None = None, **kwargs):
        """`contacts`: the customer's contacts when the caller has read them already."""
        super().__init__(*args, **kwargs)
        contact = self.fields["contact"]
        assert isinstance(contact, forms.ModelChoiceField)  # a ForeignKey's form field
        self._contact_choices = customer.contacts.all()
        contact.queryset = self._contact_choices  # what a posted contact is checked against
        contact.empty_label = _("No particular contact")
        self._contacts = contacts
        if contacts is not None:
            offer_choices(contact, contacts)

    @property
    def has_contacts(self) -> bool:
        """Whether to offer the contact field at all."""
        if self._contacts is not None:
            return bool(self._contacts)
        return self._contact_choices.exists()

    def clean_occurred_at(self):
        occurred_at = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now() + timedelta(days=1):
            raise forms.ValidationError(_("An interaction cannot be logged in the future."))
        if occurred_at.year < 1970:
            raise forms.ValidationError(_("Enter a date after 1970."))
        return occurred_at


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "due_date", "due_time", "reminder", "assignee"]
        widgets = {
            "due_date": DateInput(),
            "due_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees
        self.fields["due_date"].initial = timezone.localdate() + timedelta(days=1)
        self.fields["reminder"].choices = [("", _("No reminder")), *Reminder.choices]

    def clean_due_date(self):
        due_date = self.cleaned_data["due_date"]
        if due_date.year < 2000 or due_date.year > 2100:
            raise forms.ValidationError(_("Enter a due date between 2000 and 2100."))
        return due_date


class TaskListForm(forms.Form):
    """The task list's options: whose tasks (users the viewer may assign to), overdue only."""

    assignee = BoundedModelChoiceField(queryset=None, required=False)
    overdue = forms.BooleanField(required=False)

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "job_title", "email", "phone", "is_primary"]


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "query"]
        widgets = {"query": forms.HiddenInput}


class MergeForm(forms.Form):
    duplicate = IdField(
        label=_("Duplicate customer number"),
        required=True,
        help_text=_(
            "The number shown after # on the duplicate's page; it is merged into this customer and removed."
        ),
    )


class CustomerImportUploadForm(CsvUploadForm):
    """The CSV file to import; the file as a whole is checked here, its rows in the preview."""

    needs_mapping = False  # the header is not the layout's: the mapping step follows

    def read_file(self, upload: UploadedFile) -> None:
        data = upload.read()
        try:
            self.text, parsed = read_upload(data)
        except ImportFileError:
            text = decode_upload(data)  # raises ImportFileError itself for a binary file
            if not needs_mapping(text):
                raise
            self.text, self.needs_mapping, self.row_count = text, True, 0
            return
        self.row_count = len(parsed.rows)


class CustomerImportApplyForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("What to import"),
        choices=CustomerImport.Mode.choices,
        initial=CustomerImport.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )


class EraseConfirmForm(forms.Form):
    """Erasure cannot be undone: the manager types the customer's number to confirm."""

    confirmation = forms.CharField(label=_("Customer number"), max_length=20)

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirmation(self) -> str:
        typed = self.cleaned_data["confirmation"].strip().lstrip("#")
        if typed != str(self.customer.pk):
            raise forms.ValidationError(
                _("Type %(number)s, the number of this customer, to confirm.")
                % {"number": self.customer.pk}
            )
        return typed


class MergeChoicesForm(forms.Form):
    """Side by side: per differing field, whose value the kept record ends with."""

    KEPT, DUPLICATE = "kept", "duplicate"

    def __init__(self, *args, fields: list[tuple[str, str, str, str]], **kwargs):
        """`fields`: (name, label, kept's value shown, duplicate's value shown)."""
        super().__init__(*args, **kwargs)
        for name, label, kept_value, duplicate_value in fields:
            self.fields[f"take_{name}"] = forms.ChoiceField(
                label=label,
                choices=[(self.KEPT, kept_value), (self.DUPLICATE, duplicate_value)],
                initial=self.KEPT,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                required=False,
            )

    def taken(self) -> list[str]:
        return [
            name.removeprefix("take_")
            for name, value in self.cleaned_data.items()
            if value == self.DUPLICATE
        ]


class DismissForm(forms.Form):
    first = IdField(required=True)
    second = IdField(required=True)


class ListColumnsForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=_("Columns"), required=False, widget=forms.CheckboxSelectMultiple
    )
    reset = forms.BooleanField(required=False)
    next_query = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField


class ColumnMappingForm(forms.Form):
    """Per column of the uploaded file: the layout column it holds, or “ignore” ("")."""

    def __init__(self, *args, headers: list[str], guesses: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Ignore this column")), *((c, c) for c in CSV_COLUMNS)]
        headers, guesses = headers[:MAX_COLUMNS], guesses[:MAX_COLUMNS]
        for index, (header, guess) in enumerate(zip(headers, guesses, strict=True)):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("(no name)"),
                choices=choices,
                initial=guess,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        self.count = len(headers)

    def clean(self):
        cleaned = super().clean()
        chosen = [cleaned.get(f"column_{index}", "") for index in range(self.count)]
        if "name" not in chosen:
            raise forms.ValidationError(_("Choose the column that holds the name."))
        twice = sorted({name for name in chosen if name and chosen.count(name) > 1})
        if twice:
            raise forms.ValidationError(
                _("Each field can take one column; chosen more than once: %(names)s.")
                % {"names": ", ".join(twice)}
            )
        return cleaned

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{index}", "") for index in range(self.count)]
