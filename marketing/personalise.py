"""Personalised subjects and messages of campaigns: the fields a marketer may use, and their
values for one recipient, in the sandboxed template language of crm.lib.template_sandbox.
Unknown fields are refused when the campaign is saved; a template stored some other way
still renders them as nothing.
"""

from dataclasses import dataclass

from django.template import Template
from django.utils.translation import gettext_lazy

from crm.lib import template_sandbox

FIELDS = (
    "name",
    "first_name",
    "owner",
    "coupon_code",
    "offer",
    "unsubscribe_link",
    "recommended_products",
)
# What each field holds, listed beside the editor (the campaign form).
FIELD_HELP = {
    "name": gettext_lazy("The customer's full name"),
    "first_name": gettext_lazy("The first word of the name"),
    "owner": gettext_lazy("The customer's sales rep"),
    "coupon_code": gettext_lazy("The recipient's own coupon code"),
    "offer": gettext_lazy("The campaign's offer"),
    "unsubscribe_link": gettext_lazy("The link to stop these messages"),
    "recommended_products": gettext_lazy("Up to three recommended products"),
}
MAX_NESTING = template_sandbox.MAX_NESTING


def compile_template(source: str) -> Template:
    """The compiled template; ValidationError with a readable message if it is not allowed."""
    return template_sandbox.compile_template(source, FIELDS)


def check_template(source: str) -> None:
    """Refuse tags outside the sandbox and fields that are not personalisation fields."""
    template_sandbox.compile_checked(source, FIELDS)


@dataclass(frozen=True)
class Personalisation:
    """The strings one recipient's message may show."""

    name: str
    first_name: str
    owner: str
    coupon_code: str
    offer: str
    unsubscribe_link: str
    recommended_products: str = ""

    def as_context(self) -> dict[str, str]:
        return {key: str(getattr(self, key)) for key in FIELDS}


def render(template: Template, fields: Personalisation) -> str:
    return template_sandbox.render_text(template, fields.as_context())


def render_subject(template: Template, fields: Personalisation) -> str:
    # One line: a newline in a header would be refused by the mail module.
    return " ".join(render(template, fields).split())[:250]


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def personalisation_for(
    customer, *, coupon_code: str, offer: str, unsubscribe_link: str, recommended: str | None = None
) -> Personalisation:
    """The fields for `customer` (with `owner` selected); `recommended` when batch-loaded."""
    owner = customer.owner
    if recommended is None:
        recommended = recommended_products([customer.pk]).get(customer.pk, "")
    return Personalisation(
        name=customer.name,
        first_name=first_name(customer.name),
        owner=(owner.get_full_name() or owner.get_username()) if owner else "",
        coupon_code=coupon_code,
        offer=offer,
        unsubscribe_link=unsubscribe_link,
        recommended_products=recommended,
    )


def recommended_products(customer_ids: list[int], per_customer: int = 3) -> dict[int, str]:
    """Product names the current analytics run recommends, per customer, in two queries."""
    from analytics.models import Recommendation
    from analytics.selectors import current_run

    run = current_run()
    if run is None or not customer_ids:
        return {}
    rows = (
        Recommendation.objects.filter(run=run, customer_id__in=customer_ids, rank__lte=per_customer)
        .order_by("customer_id", "rank")
        .values_list("customer_id", "product__name")
    )
    names: dict[int, list[str]] = {}
    for customer_id, name in rows:
        names.setdefault(customer_id, []).append(name)
    return {customer_id: ", ".join(values) for customer_id, values in names.items()}
