"""What the dashboards share: chart specs, the period filter, the export query string."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.reports import Period
from crm.lib.forms import DateInput
from crm.lib.http import querystring_without

MAX_PERIOD_DAYS = 5 * 366


def chart(canvas: str, kind: str, labels: list, datasets: list, **options) -> dict:
    """One chart for static/js/analytics_charts.js (passed to the page with json_script)."""
    return {"canvas": canvas, "type": kind, "labels": labels, "datasets": datasets, **options}


def export_query(request) -> str:
    return querystring_without(request.GET, "export", "page")


class PeriodForm(forms.Form):
    LAST_90_DAYS = "90d"
    LAST_12_MONTHS = "12m"
    CUSTOM = "custom"

    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            (LAST_90_DAYS, _("Last 90 days")),
            (LAST_12_MONTHS, _("Last 12 months")),
            (CUSTOM, _("From – to")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" and "to" in the URL (?period=custom&from=…&to=…); keywords in Python.
        self.fields["from"] = forms.DateField(label=_("From"), required=False, widget=DateInput)
        self.fields["to"] = forms.DateField(label=_("To"), required=False, widget=DateInput)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm"

    def clean(self):
        data = super().clean()
        if data.get("period") != self.CUSTOM:
            return data
        start, end = data.get("from"), data.get("to")
        if not start and "from" not in self.errors:
            self.add_error("from", _("Enter the first day."))
        if not end and "to" not in self.errors:
            self.add_error("to", _("Enter the last day."))
        if start and end:
            if not (date(2000, 1, 1) <= start <= date(2100, 12, 31)):
                self.add_error("from", _("Choose a day between 2000 and 2100."))
            elif end < start:
                self.add_error("to", _("The last day is before the first."))
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("to", _("Choose a period of at most five years."))
        return data

    def period_or_default(self) -> Period:
        """The chosen period; the last 90 days when nothing (or something invalid) is chosen."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        choice = data.get("period") or self.LAST_90_DAYS
        if choice == self.CUSTOM:
            return Period(data["from"], data["to"])
        if choice == self.LAST_12_MONTHS:
            return Period(today - timedelta(days=365), today)
        return Period(today - timedelta(days=89), today)
