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
part reads the context the block starts with: it cannot sit in a `{% for %}` or `{% with %}`
of the block, and the conditions around it are kept, so they must be named by `values`. A
kept block holds no other kept block (not even through an include) and no `{% block %}`.
"""

import re
import secrets

from django import template
from django.forms import BaseForm
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.template.defaulttags import ForNode, WithNode
from django.template.loader_tags import BlockNode
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
    """A part of a `{% valuecache %}` block rendered on every request: the kept HTML holds a
    marker in its place, random per compiled template (a recompiled template, as runserver
    does after an edit, has new markers and a new key: ValueCacheNode.place)."""

    def __init__(self, nodelist: NodeList) -> None:
        self.nodelist = nodelist
        self.marker = f"<!--live:{secrets.token_hex(16)}-->"

    def render(self, context: Context) -> str:
        return self.marker


LIVE_MARKER = re.compile(r"<!--live:[0-9a-f]{32}-->")
KEEPING = "_valuecache_keeping"  # in the context while a kept block renders (no template reads _)


class ValueCacheNode(template.Node):
    def __init__(self, place: str, nodelist: NodeList, values: FilterExpression) -> None:
        self.place = place
        self.nodelist = nodelist
        self.values = values
        self.live_parts = {
            live.marker: live
            for live in nodelist.get_nodes_by_type(LiveNode)
            if isinstance(live, LiveNode)
        }

    def render(self, context: Context) -> SafeString:
        if context.get(KEEPING):
            # One reached through an include: the outer block would keep its live parts.
            raise template.TemplateSyntaxError("{% valuecache %} cannot hold another one.")
        key = values_key(self.place, self.values.resolve(context))
        html = value_fragments.get_or_render(key, lambda: self._render_kept(context))

        def live_html(marker: re.Match) -> str:
            live = self.live_parts.get(marker[0])
            return live.nodelist.render(context) if live is not None else marker[0]

        # One pass: only the parts the kept HTML shows (a condition around one may have been
        # false), and no part's output is searched for markers again.
        return mark_safe(LIVE_MARKER.sub(live_html, html))  # noqa: S308 - our own rendered template

    def _render_kept(self, context: Context) -> str:
        with context.push({KEEPING: True}):
            return self.nodelist.render(context)


def _parse_until(parser: Parser, end: str, *, in_valuecache: bool) -> NodeList:
    before = parser.extra_data.get("in_valuecache", False)
    parser.extra_data["in_valuecache"] = in_valuecache
    try:
        return parser.parse((end,))
    finally:
        parser.extra_data["in_valuecache"] = before


@register.tag
def valuecache(parser: Parser, token: Token) -> ValueCacheNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% valuecache values %} needs one tuple of values.")
    if parser.extra_data.get("in_valuecache"):
        raise template.TemplateSyntaxError("{% valuecache %} cannot hold another one.")
    nodelist = _parse_until(parser, "endvaluecache", in_valuecache=True)
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        # Kept under this template's key, one page's filling would be served on every page.
        raise template.TemplateSyntaxError("{% valuecache %} cannot hold a {% block %}.")
    for scope in [*nodelist.get_nodes_by_type(ForNode), *nodelist.get_nodes_by_type(WithNode)]:
        if scope.get_nodes_by_type(LiveNode):
            # Rendered after the block, a live part sees none of the loop's or with's names.
            raise template.TemplateSyntaxError("{% live %} cannot be inside {% for %} or {% with %}.")  # fmt: skip
    name = str(parser.origin.template_name or "<string>") if parser.origin else "<string>"
    place = f"{name}:{token.lineno}:{secrets.token_hex(8)}"  # one key per compiled block
    return ValueCacheNode(place, nodelist, parser.compile_filter(bits[1]))


@register.tag
def live(parser: Parser, token: Token) -> LiveNode:
    if not parser.extra_data.get("in_valuecache"):
        # Outside a kept block (or inside another live part) its marker would be output.
        raise template.TemplateSyntaxError("{% live %} belongs inside {% valuecache %}.")
    nodelist = _parse_until(parser, "endlive", in_valuecache=False)
    parser.delete_first_token()
    return LiveNode(nodelist)
