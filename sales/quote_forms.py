"""Validation of quotes, manual orders and their lines; forms never save."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import DateInput, DateTimeInput, VersionField, reject_nul
from customers.models import Customer
from sales.models import Order, Product
from sales.money import fits, line_net, line_tax, totals

MAX_LINES = 100
EARLIEST_YEAR = 1990


class LineForm(forms.Form):
    """One line: a product (optional) fills description, unit price and tax rate in the browser."""

    product: forms.ModelChoiceField[Product] = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Product")
    )
    description = forms.CharField(label=_("Description"), max_length=300)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0.001")
    )
    unit_price = forms.DecimalField(
        label=_("Unit price"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    discount_percent = forms.DecimalField(
        label=_("Discount %"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        initial=Decimal("0"),
    )
    tax_rate = forms.DecimalField(
        label=_("Tax rate %"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        initial=Decimal("0"),
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products
        self.fields["product"].empty_label = _("Free text")
        self.fields["description"].validators.append(reject_nul)
        for name, field in self.fields.items():
            css = (
                "form-select form-select-sm"
                if name == "product"
                else "form-control form-control-sm"
            )
            field.widget.attrs.update({"class": css, "data-field": name})
        self.fields["quantity"].widget.attrs["min"] = "0.001"

    def clean_description(self):
        return self.cleaned_data["description"].strip()

    def clean(self):
        data = super().clean()
        if all(data.get(name) is not None for name in ("quantity", "unit_price")):
            net = line_net(data["quantity"], data["unit_price"], data.get("discount_percent") or 0)
            if not fits(net + line_tax(net, data.get("tax_rate") or 0)):
                raise forms.ValidationError(
                    _("This line's total is too large (at most 999,999,999,999.99)."),
                    code="too_large",
                )
        return data


class _Amounts:
    """Duck-typed line for sales.money.totals."""

    def __init__(self, data):
        self.net_amount = line_net(data["quantity"], data["unit_price"], data["discount_percent"])
        self.tax_amount = line_tax(self.net_amount, data["tax_rate"])


class BaseLineFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_few_forms": _("Add at least one line."),
        "too_many_forms": _("A document has at most %(num)d lines."),
        "missing_management_form": _("The lines could not be read; reload the page and retry."),
    }

    def __init__(self, *args, products, **kwargs):
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "products": self.products}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            products=self.products,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def clean(self):
        if any(self.errors):
            return
        if not fits(totals(_Amounts(data) for data in self.lines()).total):
            raise forms.ValidationError(
                _("The total is too large (at most 999,999,999,999.99); split it up."),
                code="too_large",
            )

    def lines(self) -> list[dict]:
        """The cleaned lines, without deleted and blank rows, in the order shown."""
        return [
            {key: value for key, value in form.cleaned_data.items() if key != "DELETE"}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_LINES,
    validate_max=True,
    absolute_max=MAX_LINES,
    can_delete=True,
)


def line_formset(data=None, *, products, initial=None):
    return LineFormSet(data, prefix="lines", products=products, initial=initial)


class QuoteForm(forms.Form):
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[reject_nul],
    )
    version = VersionField(required=False)

    def clean_valid_until(self):
        value = self.cleaned_data["valid_until"]
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError(_("The validity date is in the past."))
        if value > today + timedelta(days=366 * 2):
            raise forms.ValidationError(_("A quote can be valid for two years at most."))
        return value


class OrderForm(forms.Form):
    customer: forms.ModelChoiceField[Customer] = forms.ModelChoiceField(
        queryset=None, label=_("Customer")
    )
    ordered_at = forms.DateTimeField(label=_("Ordered"), widget=DateTimeInput())
    channel = forms.ChoiceField(label=_("Channel"), choices=Order.Channel.choices)
    coupon_code = forms.CharField(
        label=_("Coupon code"), required=False, max_length=50, validators=[reject_nul]
    )

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["customer"].widget = forms.HiddenInput()
        self.fields["customer"].error_messages["invalid_choice"] = _(
            "Choose a customer you may enter orders for."
        )

    def clean_coupon_code(self):
        return self.cleaned_data["coupon_code"].strip().upper()

    def clean_ordered_at(self):
        value = self.cleaned_data["ordered_at"]
        if value.year < EARLIEST_YEAR:
            raise forms.ValidationError(_("Enter a date after %(year)s.") % {"year": EARLIEST_YEAR})
        if value > timezone.now() + timedelta(days=1):
            raise forms.ValidationError(_("The order date is in the future."))
        return value
