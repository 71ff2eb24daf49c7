"""`{% submit_token %}`: the hidden one-time token of a form that creates something.

A built-in tag (TEMPLATES' "builtins" in settings): no `{% load %}` needed. Each call
renders a fresh token, so every form (and every form re-rendered after an error) gets
its own; core.middleware.SubmitOnceMiddleware makes a token take effect once.
"""

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.middleware import TOKEN_FIELD

register = template.Library()


@register.simple_tag
def submit_token() -> SafeString:
    return format_html('<input type="hidden" name="{}" value="{}">', TOKEN_FIELD, uuid.uuid4())
