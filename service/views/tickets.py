"""Placeholder until the agent views are written."""

from django.http import Http404


def _placeholder(request, *args, **kwargs):
    raise Http404


ticket_list = ticket_create = ticket_bulk = ticket_detail = _placeholder
ticket_update = ticket_reply = customer_tickets_panel = _placeholder
