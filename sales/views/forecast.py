"""The forecast: weighted pipeline by expected close month and by rep."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.params import BoundedModelChoiceField
from customers.selectors import customer_owners
from sales.selectors import deal_scope, forecast

HORIZONS = [3, 6, 12, 24]


class ForecastForm(forms.Form):
    start = forms.DateField(
        label=_("From month"), required=False, input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )  # fmt: skip
    months = forms.TypedChoiceField(
        label=_("Months"), coerce=int, choices=[(m, m) for m in HORIZONS], initial=6, required=False
    )
    owner = BoundedModelChoiceField(
        label=_("Owner"), queryset=None, required=False, empty_label=_("Everyone I may see")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = customer_owners()
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )

    def clean_start(self):
        start = self.cleaned_data["start"]
        if start and not 2000 <= start.year <= 2100:
            raise forms.ValidationError(_("Choose a month between 2000 and 2100."))
        return start


@permission_required("sales.view_deal", raise_exception=True)
def forecast_view(request):
    form = ForecastForm(request.GET or None, initial={"start": timezone.localdate(), "months": 6})
    data = form.cleaned_data if form.is_valid() else {}
    start = (data.get("start") or timezone.localdate()).replace(day=1)
    months = data.get("months") or 6
    scope = deal_scope(request.user)
    if data.get("owner"):
        scope = scope.owned_by(data["owner"])
    options = {
        "start": start,
        "months": months,
        "commit_probability": settings.CRM_COMMIT_PROBABILITY,
    }
    result = forecast(scope, **options)
    by_month, by_rep = result.by_month, result.by_owner
    context = {
        "form": form,
        "start": start,
        "months": months,
        "by_month": by_month,
        "by_rep": by_rep,
        "total": _total(by_month),
        "largest": max((row.best_case for row in by_month), default=Decimal("0")) or Decimal("1"),
        "commit_probability": settings.CRM_COMMIT_PROBABILITY,
        "currency": settings.CRM_CURRENCY,
        "missing": result.missing,
    }
    return render(request, "sales/forecast.html", context)


def _total(rows):
    return {
        name: sum((getattr(row, name) for row in rows), Decimal("0.00"))
        for name in ("won", "committed", "best_case", "weighted", "open_deals")
    }
