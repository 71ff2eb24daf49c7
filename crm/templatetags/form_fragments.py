"""`{% formcache form [extra ...] %}...{% endformcache %}`: renders the enclosed markup once
per distinct form state and serves it from memory afterwards (crm/lib/fragments.py).

The enclosed markup may read only the form and the `extra` values (the language and time
zone are part of the key already): anything else it showed would be served stale. It must
hold no per-request secret (no CSRF or submit token, no CSP nonce): the list pages' GET
filter forms are what it is for.
"""

from django import template
from django.forms import BaseForm
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from crm.lib.fragments import form_fingerprint, fragments

register = template.Library()


class FormCacheNode(template.Node):
    def __init__(
        self, place: str, nodelist: NodeList, form: FilterExpression, extra: list[FilterExpression]
    ) -> None:
        self.place = place  # which fragment: its template and line
        self.nodelist = nodelist
        self.form = form
        self.extra = extra

    def render(self, context: Context) -> SafeString:
        form = self.form.resolve(context)
        if not isinstance(form, BaseForm):  # no form on this page: nothing to key on
            return self.nodelist.render(context)
        extra = [value.resolve(context) for value in self.extra]
        # The page's own template too: the fragment may be a block its pages fill in.
        page = context.template.name if context.template else ""
        key = f"{self.place}:{page}:{form_fingerprint(form, *extra)}"
        return mark_safe(fragments.get_or_render(key, lambda: self.nodelist.render(context)))  # noqa: S308 - our own rendered template


@register.tag
def formcache(parser: Parser, token: Token) -> FormCacheNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% formcache form [extra ...] %} needs the form.")
    nodelist = parser.parse(("endformcache",))
    parser.delete_first_token()
    place = f"{parser.origin.name if parser.origin else '?'}:{token.lineno}"
    return FormCacheNode(
        place,
        nodelist,
        parser.compile_filter(bits[1]),
        [parser.compile_filter(b) for b in bits[2:]],
    )
