"""Placeholder until the dashboards are written."""

from django.http import Http404


def _placeholder(request, *args, **kwargs):
    raise Http404


segments = value = cannot_lose_tasks = pipeline = service = customer_value_panel = _placeholder
