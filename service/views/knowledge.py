"""Placeholder until the knowledge-base views are written."""

from django.http import Http404


def _placeholder(request, *args, **kwargs):
    raise Http404


article_list = article_create = article_detail = article_edit = article_delete = _placeholder
