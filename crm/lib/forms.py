"""Form helpers shared by every app."""

from collections.abc import Iterable

from django import forms
from django.db.models import Model
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _


class VersionField(forms.IntegerField):
    """The row version the user saw; a service compares it to detect concurrent edits."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**31 - 1, **kwargs)


class _VersionForm(forms.Form):
    version = VersionField(required=False)


def posted_version(data: QueryDict) -> int | None:
    """The version a button's form posted; None (a conflict for the service) when missing or bad."""
    form = _VersionForm(data)
    return form.cleaned_data["version"] if form.is_valid() else None


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def offer_choices(field: forms.ModelChoiceField, objects: Iterable[Model]) -> None:
    """Render `objects`, read already, as the field's options, so that rendering the field
    costs no query of its own (a page showing one list in two forms reads it once).
    Only the widget's options change: the field's queryset still checks the submitted value."""
    empty = [] if field.empty_label is None else [("", field.empty_label)]
    field.widget.choices = empty + [(obj.pk, field.label_from_instance(obj)) for obj in objects]


def reject_nul(value: str) -> None:
    """A validator: refuses text with a NUL character (PostgreSQL cannot store one)."""
    if "\x00" in value:
        raise forms.ValidationError(_("Null characters are not allowed."))


class IdListField(forms.Field):
    """Row ids posted by checkboxes (`name="selected"` repeated)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("The selection contains an invalid row.")}

    def to_python(self, value: Iterable[str] | None) -> list[int]:
        if not value:
            return []
        try:
            ids = [int(item) for item in value]
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error
        if any(not 0 < item < 2**63 for item in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return ids
