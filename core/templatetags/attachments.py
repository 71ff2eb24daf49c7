"""Filters for the attachments partials: a file's kind as a word and as a CSS class."""

from django import template

from core.file_types import kind_css, kind_label

register = template.Library()


@register.filter
def file_kind(content_type: str) -> str:
    return kind_label(str(content_type))


@register.filter
def file_kind_css(content_type: str) -> str:
    return kind_css(str(content_type))
