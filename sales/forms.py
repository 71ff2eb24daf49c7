"""Validation and normalisation of sales input; forms never save."""

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from crm.lib.currencies import CurrencyFormField
from crm.lib.forms import DateInput, VersionField
from crm.lib.params import BoundedModelChoiceField
from customers.models import Customer
from sales.models import Deal, Pipeline, Stage

# Dates further out than this are typos (20266 for 2026), not plans.
_LATEST_CLOSE = date(2200, 12, 31)
_EARLIEST_CLOSE = date(2000, 1, 1)


def _model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)  # a ForeignKey's form field
    return field


class DealForm(forms.ModelForm):
    """A deal's fields; the customer and pipeline come from the caller, not the user."""

    version = VersionField(required=False)

    class Meta:
        model = Deal
        fields = [
            "title",
            "amount",
            "currency",
            "stage",
            "probability",
            "expected_close_date",
            "owner",
            "contact",
        ]
        widgets = {"expected_close_date": DateInput()}

    def __init__(
        self,
        *args: Any,
        customer: Customer,
        pipeline: Pipeline | None,
        owners: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # No pipeline at all (every one deleted): no stage to choose, so no deal, not a 500.
        stages = Stage.objects.none() if pipeline is None else pipeline.stages.all()
        stages = stages.order_by("order", "id")
        if self.instance.pk and self.instance.status != Deal.Status.OPEN:
            stages = stages.filter(pk=self.instance.stage_id)  # closed: Win/Lose actions only
        else:
            stages = stages.filter(is_won=False, is_lost=False)
        stage_field, owner_field = _model_choice(self, "stage"), _model_choice(self, "owner")
        stage_field.queryset, stage_field.empty_label = stages, None
        owner_field.queryset, owner_field.empty_label = owners, None
        contact_field = _model_choice(self, "contact")
        contact_field.queryset = customer.contacts.order_by("name", "id")
        contact_field.empty_label = _("No contact")
        self.fields["currency"] = CurrencyFormField(initial=self.fields["currency"].initial)
        self.fields["probability"].required = False
        self.fields["probability"].help_text = _("Leave empty to take the stage's probability.")
        self.fields["amount"].validators.append(MinValueValidator(0))
        self.fields["probability"].validators.append(MaxValueValidator(100))
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["next_step"] = forms.ModelChoiceField(
                label=_("Next step"),
                queryset=customer.tasks.filter(done=False).order_by("due_date", "id"),
                required=False,
                empty_label=_("None"),
                initial=self.instance.next_step_id,
                help_text=_("One of the customer's open tasks; add tasks on the customer page."),
            )

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("Give the deal a title."))
        return title

    def clean_expected_close_date(self):
        value = self.cleaned_data["expected_close_date"]
        if not _EARLIEST_CLOSE <= value <= _LATEST_CLOSE:
            raise forms.ValidationError(_("Enter a close date between 2000 and 2200."))
        return value


class BoardMoveForm(forms.Form):
    """Where a card was dropped (any stage: the service refuses another pipeline's with a
    message); after a conflict it shows where the other person put the deal."""

    stage = BoundedModelChoiceField(
        label=_("Stage"), queryset=Stage.objects.order_by("order", "id")
    )
    version = VersionField(required=False)

    def __init__(self, data: QueryDict | None = None, *, deal: Deal) -> None:
        super().__init__(data, initial={"stage": deal.stage_id, "version": deal.version})


class WinForm(forms.Form):
    """'Mark as won' asks for the final amount (issue 16), the accepted quote's total or the
    deal's amount proposed."""

    # Left empty (another client posting only the version), the deal keeps its amount.
    amount = Deal._meta.get_field("amount").formfield(
        label=_("Final amount"), required=False, min_value=0
    )
    version = VersionField(required=False)


class LoseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why was the deal lost?"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = VersionField(required=False)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the deal was lost."))
        return reason
