"""Placeholder until the run views are written."""

from django.http import Http404


def _placeholder(request, *args, **kwargs):
    raise Http404


recompute = run_status = _placeholder
