"""The one rule for a phone number typed by a person (customers, contacts, users' profiles)."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    r"^\+?[0-9 ()./-]{5,30}$",
    _(
        "Enter a phone number of 5 to 30 digits, spaces, brackets, dots or dashes, optionally starting with +."
    ),
)
