"""`{% formcache form [extra ...] [fields="a b"] %}...{% endformcache %}`: renders the enclosed
markup once per distinct form state and serves it from memory afterwards
(crm/lib/fragments.py).

The enclosed markup may read only the form (with `fields`, only those fields of it) and the
`extra` values (the language and time zone are part of the key already): anything else it
showed would be served stale. `fields` narrows the key to those fields, so a field whose
value or options differ from page to page (a customer's contacts, a time defaulting to now)
can be rendered outside the block without making every page a new key. It must
hold no per-request secret (no CSRF or submit token, no CSP nonce): it wraps the fields of
a form, the list pages' GET filters or a POST form's fields with its tokens left outside.

`{% valuecache values %}...{% endvaluecache %}`: the same for a fragment that shows only
`values` (a hashable tuple of plain fields: a board card's BoardCard.shown), rendered once
per distinct tuple. It must name every value the enclosed markup reads, or it is served
stale, except inside `{% live %}...{% endlive %}`: those parts are rendered on every
request and put into the kept HTML (a CSRF token, a count, the search box's text). A live
part reads the context the block starts with, not a loop's or `{% with %}`'s variables
inside the block; the conditions around it are kept, so they must be named by `values`.
"""

import secrets

from django import template
from django.forms import BaseForm
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from crm.lib.fragments import form_fingerprint, fragments, value_fragments, values_key

register = template.Library()


class FormCacheNode(template.Node):
    def __init__(
        self,
        place: str,
        nodelist: NodeList,
        form: FilterExpression,
        extra: list[FilterExpression],
        fields: list[str] | None = None,
    ) -> None:
        self.place = place  # which fragment: its template and line
        self.nodelist = nodelist
        self.form = form
        self.extra = extra
        self.fields = fields

    def render(self, context: Context) -> SafeString:
        form = self.form.resolve(context)
        if not isinstance(form, BaseForm):  # no form on this page: nothing to key on
            return self.nodelist.render(context)
        extra = [value.resolve(context) for value in self.extra]
        # The page's own template too: the fragment may be a block its pages fill in.
        page = context.template.name if context.template else ""
        key = f"{self.place}:{page}:{form_fingerprint(form, *extra, fields=self.fields)}"
        return mark_safe(fragments.get_or_render(key, lambda: self.nodelist.render(context)))  # noqa: S308 - our own rendered template


@register.tag
def formcache(parser: Parser, token: Token) -> FormCacheNode:
    bits = token.split_contents()
    fields = None
    if bits[-1].startswith("fields="):
        names = bits.pop()[len("fields=") :].strip("\"'").split()
        if not names:
            raise template.TemplateSyntaxError('{% formcache %}: fields="…" names no field.')
        fields = names
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
        fields,
    )


class LiveNode(template.Node):
    """A part of a `{% valuecache %}` block rendered on every request: the kept HTML holds
    a marker in its place (unguessable, so no data can forge one)."""

    def __init__(self, nodelist: NodeList) -> None:
        self.nodelist = nodelist
        self.marker = f"<!--live:{secrets.token_hex(16)}-->"

    def render(self, context: Context) -> str:
        return self.marker


class ValueCacheNode(template.Node):
    def __init__(self, place: str, nodelist: NodeList, values: FilterExpression) -> None:
        self.place = place
        self.nodelist = nodelist
        self.values = values
        self.live_parts: list[LiveNode] = nodelist.get_nodes_by_type(LiveNode)  # type: ignore[assignment]

    def render(self, context: Context) -> SafeString:
        key = values_key(self.place, self.values.resolve(context))
        html = value_fragments.get_or_render(key, lambda: self.nodelist.render(context))
        for live in self.live_parts:
            if live.marker in html:  # not when a condition around it was false
                html = html.replace(live.marker, live.nodelist.render(context))
        return mark_safe(html)  # noqa: S308 - our own rendered template


@register.tag
def valuecache(parser: Parser, token: Token) -> ValueCacheNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% valuecache values %} needs one tuple of values.")
    if getattr(parser, "in_valuecache", False):
        # The outer block would keep the inner one's live parts as they first rendered.
        raise template.TemplateSyntaxError("{% valuecache %} cannot hold another one.")
    parser.in_valuecache = True  # type: ignore[attr-defined]
    nodelist = parser.parse(("endvaluecache",))
    parser.in_valuecache = False  # type: ignore[attr-defined]
    parser.delete_first_token()
    place = f"{parser.origin.name if parser.origin else '?'}:{token.lineno}"
    return ValueCacheNode(place, nodelist, parser.compile_filter(bits[1]))


@register.tag
def live(parser: Parser, token: Token) -> LiveNode:
    if not getattr(parser, "in_valuecache", False):
        # Outside a kept block (or inside another live part) its marker would be output.
        raise template.TemplateSyntaxError("{% live %} belongs inside {% valuecache %}.")
    parser.in_valuecache = False  # type: ignore[attr-defined]
    nodelist = parser.parse(("endlive",))
    parser.in_valuecache = True  # type: ignore[attr-defined]
    parser.delete_first_token()
    return LiveNode(nodelist)
