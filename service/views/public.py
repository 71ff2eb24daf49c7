"""Placeholder until the self-service views are written."""

from django.contrib.auth.decorators import login_not_required
from django.http import Http404


@login_not_required
def _placeholder(request, *args, **kwargs):
    raise Http404


help_home = help_article = help_vote = help_suggest = help_submit = _placeholder
help_ticket = help_rate = _placeholder
