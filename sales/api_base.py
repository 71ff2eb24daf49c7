"""What the sales API's views share (sales/api.py, sales/api_orders.py)."""

from typing import Any

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions

from crm.lib.params import parse_id

# The error answers, as application/problem+json (core/api.py), for the schema.
PROBLEM = OpenApiResponse(OpenApiTypes.OBJECT, description="An RFC 9457 problem.")
PROBLEMS = {(code, "application/problem+json"): PROBLEM for code in (400, 403, 404)}
WRITE_PROBLEMS = {**PROBLEMS, (412, "application/problem+json"): PROBLEM}


class BoundedLookupMixin:
    """A path id that no database integer holds is a 404, not a database error."""

    kwargs: dict[str, Any]

    def get_object(self) -> Any:
        if parse_id(str(self.kwargs.get("pk", ""))) is None:
            raise exceptions.NotFound()
        return super().get_object()  # type: ignore[misc]


def form_errors(form: forms.BaseForm) -> exceptions.ValidationError:
    """A page form's errors as the API's field errors."""
    errors = {
        ("non_field_errors" if name == "__all__" else name): list(messages)
        for name, messages in form.errors.items()
    }
    return exceptions.ValidationError(errors)
