"""`get_FOO_display()` in one dictionary look-up and one translation.

Django's own builds a dictionary of every choice on each call, hashing each (lazily
translated) label, so it translates all of a field's labels to show one: 150 calls on a
page of the ticket queue cost about 20 ms (issue 18). A model whose rows are listed
inherits `ChoiceLabels` first; the labels and the text shown are the same.
"""

from functools import cache
from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@cache
def _labels(field: models.Field) -> dict[Any, Any]:
    """value -> (lazy) label of a field with fixed choices, built once per field."""
    return {make_hashable(value): label for value, label in field.flatchoices}


class ChoiceLabels:
    def _get_FIELD_display(self, field: models.Field) -> Any:
        if not isinstance(field.choices, list | tuple):  # choices computed on each call
            return super()._get_FIELD_display(field)  # type: ignore[misc]
        value = getattr(self, field.attname)
        label = _labels(field).get(make_hashable(value), value)
        return force_str(label, strings_only=True)
