"""Forms of the team view, the quota page and the deal page's quick actions."""

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import DateInput, reject_nul
from crm.lib.money import MONEY_MAX
from customers.forms import InteractionForm
from sales.selectors import rep_name


class MonthForm(forms.Form):
    """?month=YYYY-MM: the month a page shows (this month when absent or wrong)."""

    month = forms.DateField(
        label=_("Month"), required=False, input_formats=["%Y-%m"],
        widget=forms.DateInput(
            attrs={"type": "month", "class": "form-control form-control-sm"}, format="%Y-%m"
        ),
    )  # fmt: skip

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month and not 2000 <= month.year <= 2100:
            raise forms.ValidationError(_("Choose a month between 2000 and 2100."))
        return month

    def chosen_month(self) -> date:
        month = self.cleaned_data.get("month") if self.is_valid() else None
        return (month or timezone.localdate()).replace(day=1)


def quota_field_name(rep: User) -> str:
    return f"quota_{rep.pk}"


class QuotaForm(forms.Form):
    """One amount per rep for a month; an empty amount removes the rep's quota."""

    month = forms.DateField(
        input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "hidden"}, format="%Y-%m")
    )

    def __init__(self, *args, reps: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.reps = reps
        for rep in reps:
            self.fields[quota_field_name(rep)] = forms.DecimalField(
                label=rep_name(rep),
                required=False,
                min_value=Decimal("0"),
                max_value=MONEY_MAX,
                max_digits=14,
                decimal_places=2,
                widget=forms.NumberInput(
                    attrs={"step": "0.01", "min": "0", "class": "form-control form-control-sm"}
                ),
            )

    def clean_month(self):
        month = self.cleaned_data["month"]
        if not 2000 <= month.year <= 2100:
            raise forms.ValidationError(_("Choose a month between 2000 and 2100."))
        return month.replace(day=1)

    def amounts(self) -> dict[User, Decimal | None]:
        return {rep: self.cleaned_data.get(quota_field_name(rep)) for rep in self.reps}

    def rows(self):
        """(rep, bound field) pairs, for the template."""
        return [(rep, self[quota_field_name(rep)]) for rep in self.reps]


class NextStepForm(forms.Form):
    title = forms.CharField(label=_("Next step"), max_length=200, validators=[reject_nul])
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_date"].initial = timezone.localdate() + timedelta(days=1)

    def clean_due_date(self):
        due_date = self.cleaned_data["due_date"]
        if not 2000 <= due_date.year <= 2100:
            raise forms.ValidationError(_("Enter a due date between 2000 and 2100."))
        return due_date


def deal_work_forms(deal, next_step_form=None, activity_form=None) -> dict[str, forms.BaseForm]:
    """The deal page's two quick forms: set the next step, log an activity."""
    return {
        "next_step_form": next_step_form or NextStepForm(),
        "activity_form": activity_form
        or InteractionForm(
            customer=deal.customer,
            initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)},
        ),
    }
