"""The customers API's JSON, checked by the same forms as the pages: a customer's current
values with the client's changes on top become the form's data, so a PATCH is validated
(duplicates, owners one may assign, lower-cased email...) exactly as the edit page is."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.forms import BaseForm
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from rest_framework import exceptions

from customers.forms import (
    CONTACT_DETAIL_FIELDS,
    ContactDetailsForm,
    CustomerForm,
    InteractionForm,
    TaskForm,
)
from customers.models import Customer, Tag
from customers.selectors import assignable_users
from customers.services import CUSTOMER_FIELDS

# What a service agent may send: how to reach the customer (ContactDetailsForm).
AGENT_FIELDS = {*CONTACT_DETAIL_FIELDS, "confirm_duplicate"}
NEW_CUSTOMER = {"kind": Customer.Kind.PERSON, "source": Customer.Source.OTHER,
                "stage": Customer.Stage.LEAD}  # fmt: skip


def form_errors(form: BaseForm) -> dict[str, list[str]]:
    """A form's errors by field, plain text ("__all__" as DRF's "non_field_errors")."""
    return {
        ("non_field_errors" if field == "__all__" else field): [
            strip_tags(error["message"]) for error in errors
        ]
        for field, errors in form.errors.get_json_data().items()
    }


def _current(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return dict(NEW_CUSTOMER)
    data: dict[str, Any] = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
    data["owner"] = customer.owner_id
    data["tags"] = [tag.pk for tag in customer.tags.all()]
    data["consent"] = [c.channel for c in customer.consents.all() if c.granted]
    return data


def _tag_ids(names: list[str]) -> list[int]:
    wanted = {name.strip() for name in names}
    found = dict(Tag.objects.filter(name__in=wanted).values_list("name", "pk"))
    unknown = sorted(wanted - set(found))
    if unknown:
        raise exceptions.ValidationError(
            {"tags": [_("Unknown tag: %(name)s") % {"name": name} for name in unknown]}
        )
    return list(found.values())


def customer_form(
    user: User | AnonymousUser,
    customer: Customer | None,
    payload: dict[str, Any],
    *,
    contact_details_only: bool = False,
) -> CustomerForm | ContactDetailsForm:
    """The page's customer form bound to the customer's values and the client's changes; a
    new customer belongs to the client's user unless it names another owner."""
    data = _current(customer)
    if customer is None:
        data["owner"] = user.pk
    for field, value in payload.items():
        if field == "tags":
            data["tags"] = _tag_ids(value)
        elif field == "consent":
            granted = {channel for channel in data.get("consent", []) if channel not in value}
            data["consent"] = sorted(granted | {ch for ch, on in value.items() if on})
        else:
            data[field] = value
    data = {key: value for key, value in data.items() if value is not None}
    if contact_details_only:
        assert customer is not None
        return ContactDetailsForm(data, instance=customer)
    return CustomerForm(data, instance=customer, owners=assignable_users(user))


def _form_data(payload: dict[str, Any]) -> dict[str, Any]:
    """Serializer data as form data: `contact_id` -> `contact`; absent ids stay absent."""
    return {key.removesuffix("_id"): value for key, value in payload.items() if value is not None}


def interaction_form(customer: Customer, payload: dict[str, Any]) -> InteractionForm:
    data = _form_data(payload)
    if data.get("occurred_at") is None:
        data["occurred_at"] = timezone.now()
    return InteractionForm(data, customer=customer)


def task_form(user: User | AnonymousUser, payload: dict[str, Any]) -> TaskForm:
    data = _form_data(payload)
    data.setdefault("assignee", user.pk)
    return TaskForm(data, assignees=assignable_users(user))
