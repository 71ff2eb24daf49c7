"""Validating the rows of a customer import: the table of columns and what it checks against.

customers.importing validates every row of the file with it and plans what each row does.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.validators import MaxLengthValidator
from django.db.models import Field
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crm.lib.csv_import import Column
from customers.csv_format import TAG_SEPARATOR
from customers.models import CONTACT_DETAILS, TAG_NAME_MAX_LENGTH, Channel, Customer, Tag
from customers.selectors import customer_owners

MAX_TAGS_PER_ROW = 50

# Text fields: the cell is the value; an empty cell empties the field.
TEXT_FIELDS = [
    "name",
    "organization",
    *CONTACT_DETAILS,
    "industry",
]
# Choice fields that must have a value: an empty cell keeps it (or takes the default).
REQUIRED_CHOICES = {"kind": Customer.Kind, "source": Customer.Source, "stage": Customer.Stage}
# Choice fields that may be empty: an empty cell empties them.
OPTIONAL_CHOICES = {"company_size": Customer.Size, "preferred_channel": Channel}
_CHOICES = {**REQUIRED_CHOICES, **OPTIONAL_CHOICES}
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


# ---------------------------------------------------------------------------------------------
# Validating a row


class ImportContext:
    """What every row of one file is checked against: read once, not once per row."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.can_create = user.has_perm("customers.add_customer")
        self.can_assign_others = user.has_perm("customers.change_any_customer")
        self.can_add_tags = user.has_perm("customers.add_tag")
        self.owners: dict[str, Any] = {}
        self.usernames: dict[int, str] = {}
        self.current_tags: dict[int, list[str]] = {}  # customer pk -> tag names
        self.owners_lower: dict[str, list] = defaultdict(list)
        for owner in customer_owners():
            self.owners[owner.get_username()] = owner
            self.owners_lower[owner.get_username().lower()].append(owner)
            self.usernames[owner.pk] = owner.get_username()
        self.tags = {name.lower(): name for name in Tag.objects.values_list("name", flat=True)}
        self.choices = {name: _choice_lookup(choices) for name, choices in _CHOICES.items()}

    def username(self, user_id: int | None) -> str:
        """The username of a customer's current owner, for the preview."""
        if user_id is None:
            return ""
        if user_id not in self.usernames:
            self.usernames[user_id] = (
                get_user_model()
                .objects.filter(pk=user_id)
                .values_list(get_user_model().USERNAME_FIELD, flat=True)
                .first()
                or ""
            )
        return self.usernames[user_id]

    def owner(self, username: str):
        if username in self.owners:
            return self.owners[username]
        matches = self.owners_lower.get(username.lower(), [])
        return matches[0] if len(matches) == 1 else None

    def clean_choice(self, name: str, value: str) -> str:
        """The code of the choice named by code or label (English or the user's language)."""
        if not value:
            return ""
        code = self.choices[name].get(value.lower())
        if code is None:
            raise forms.ValidationError(
                _("“%(value)s” is not one of: %(codes)s.")
                % {"value": Truncator(value).chars(40), "codes": ", ".join(_CHOICES[name].values)}
            )
        return code

    def clean_owner(self, username: str) -> User | None:
        """The user named by username; whether the importer may choose them is decided later."""
        if not username:
            return None
        owner = self.owner(username)
        if owner is None:
            raise forms.ValidationError(
                _("“%(name)s” is not the username of an active user who may own customers.")
                % {"name": Truncator(username).chars(40)}
            )
        return owner

    def clean_tags(self, value: str) -> list[str]:
        """Tag names separated by “;”, spelled like an existing tag when one matches."""
        names: list[str] = []
        for part in value.split(TAG_SEPARATOR):
            name = part.strip()
            if not name:
                continue
            if len(name) > TAG_NAME_MAX_LENGTH:
                raise forms.ValidationError(
                    _("The tag “%(name)s…” is longer than 50 characters.")
                    % {"name": Truncator(name).chars(20)}
                )
            existing = self.tags.get(name.lower())
            if existing is None:
                if not self.can_add_tags:
                    raise forms.ValidationError(
                        _("There is no tag “%(name)s”, and you may not create tags.")
                        % {"name": name}
                    )
                self.tags[name.lower()] = name  # later rows spell the new tag alike
            name = existing or name
            if name.lower() not in (n.lower() for n in names):
                names.append(name)
        if len(names) > MAX_TAGS_PER_ROW:
            raise forms.ValidationError(
                _("Give at most %(max)d tags per customer.") % {"max": MAX_TAGS_PER_ROW}
            )
        return names


def _choice_lookup(choices) -> dict[str, str]:
    """Code, English label and label in the user's language, lower-cased, to the code."""
    lookup = {}
    for code, label in choices.choices:
        lookup[str(label).lower()] = code
        with translation.override("en"):
            lookup[str(label).lower()] = code
    lookup.update({code.lower(): code for code in choices.values})
    return lookup


def _model_field(name: str, **kwargs) -> forms.Field:
    """The form field of the Customer field, with its length limit and validators.

    formfield() leaves the model's own validators (the phone pattern) to the model's
    full_clean; a row is checked before any model exists, so they are added here.
    """
    model_field = Customer._meta.get_field(name)
    if not isinstance(model_field, Field):
        raise ValueError(f"Customer.{name} is not a field of its own.")
    form_field = model_field.formfield(**kwargs)
    if form_field is None:
        raise ValueError(f"Customer.{name} has no form field.")
    form_field.validators.extend(
        validator
        for validator in model_field.validators
        if not isinstance(validator, MaxLengthValidator) and validator not in form_field.validators
    )
    return form_field


def _then(field: forms.Field, clean: Callable[[Any], Any]) -> Callable[[str], Any]:
    """The form field's clean, then `clean` of its result (as a form's clean_<name>)."""

    def validate(value: str) -> Any:
        return clean(field.clean(value))

    return validate


def customer_columns(context: ImportContext) -> list[Column]:
    """The table a row is validated with: each column and its validator, in COLUMNS order.

    A validator returns the normalised value or raises ValidationError; choices, owners and
    tags are checked against `context`, read once per file.
    """
    text = forms.CharField(required=False)

    def model(name: str, required: bool = False) -> Callable[[str], Any]:
        return _model_field(name, required=required).clean

    def choice(name: str) -> Callable[[str], Any]:
        return _then(text, lambda value: context.clean_choice(name, value))

    owner = forms.CharField(required=False, max_length=150)
    return [
        Column("external_id", model("external_id")),
        Column("name", model("name", required=True)),
        Column("kind", choice("kind")),
        Column("organization", model("organization")),
        Column("email", _then(_model_field("email", required=False), str.lower)),
        Column("phone", model("phone")),
        Column("country", model("country")),
        Column("region", model("region")),
        Column("city", model("city")),
        Column("address", model("address")),
        Column("industry", model("industry")),
        Column("company_size", choice("company_size")),
        Column("source", choice("source")),
        Column("stage", choice("stage")),
        Column("owner", _then(owner, context.clean_owner)),
        Column("tags", _then(text, context.clean_tags)),
        Column("is_key_account", _then(text, _clean_yes_no)),
        Column("preferred_channel", choice("preferred_channel")),
    ]


def _clean_yes_no(value: str) -> bool | None:
    value = value.lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise forms.ValidationError(_("Write yes or no (or true/false, 1/0)."))
