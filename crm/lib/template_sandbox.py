"""Personalised text in a sandboxed template language, for any app (campaign messages in
marketing.personalise, service macros).

Django template syntax compiled by an engine whose only tags are `if`/`elif`/`else` and
`comment` and whose only filters are a few text ones (no `load`, `include`, `extends`,
`debug`, `ssi`, `for` or `now`), so a template can neither read files nor loop; the context
is plain dicts of strings, never models, so `{{ settings.SECRET_KEY }}` has nothing to
resolve. Fields come from a fixed list (`name`, or dotted as `customer.name`); unknown ones
are refused with a readable message (crm.lib.template_errors). The output is plain text:
the caller escapes it where it becomes HTML.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import Lexer, TokenType, Variable, VariableNode
from django.utils.translation import gettext as _

from crm.lib.template_errors import explain

# Text filters that take no argument able to make the output large (no ljust/center).
FILTERS = ("default", "upper", "lower", "title", "capfirst", "truncatechars", "truncatewords")
MAX_OUTPUT = 100_000
# Blocks inside blocks: the parser and the renderer recurse once per level, so a thousand
# levels overflowed Python's stack (a 500 on save). No real message needs more than a few.
MAX_NESTING = 20
_BLOCK_TAGS = {"if": "endif", "comment": "endcomment"}


def _library() -> Library:
    library = Library()
    library.tags["if"] = defaulttags.do_if
    library.tags["comment"] = defaulttags.comment
    for name in FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    return library


def _engine() -> Engine:
    engine = Engine(libraries={}, autoescape=False, string_if_invalid="")
    engine.template_builtins = [_library()]  # replaces the default tags, filters and loaders
    return engine


_TEXT = _engine()


def field_list(fields: tuple[str, ...]) -> str:
    return ", ".join("{{ %s }}" % name for name in fields)  # noqa: UP031 - braces


def compile_template(source: str, fields: tuple[str, ...]) -> Template:
    """The compiled template; ValidationError in plain words for a mistake. Unknown fields
    render as nothing (a template stored before a field was removed still renders)."""
    _check_nesting(source or "")
    try:
        return Template(source or "", engine=_TEXT)
    except (TemplateSyntaxError, RecursionError) as error:
        raise ValidationError(
            _("%(problem)s Allowed fields: %(fields)s.")
            % {"problem": explain(error, FILTERS), "fields": field_list(fields)}
        ) from error


def compile_checked(source: str, fields: tuple[str, ...]) -> Template:
    """The compiled template; ValidationError in plain words for a mistake or an unknown field
    (a literal such as {{ "text" }} is allowed: it resolves to itself)."""
    template = compile_template(source, fields)
    variables = [
        node.filter_expression.var
        for node in template.nodelist.get_nodes_by_type(VariableNode)
        if isinstance(node, VariableNode)
    ]
    unknown = sorted(
        {str(var) for var in variables if isinstance(var, Variable) and var.var not in fields}
    )
    if unknown:
        raise ValidationError(
            _("There is no field called %(unknown)s (check the spelling). Allowed fields: "
              "%(fields)s.")
            % {"unknown": ", ".join(unknown), "fields": field_list(fields)}
        )  # fmt: skip
    return template


def _check_nesting(source: str) -> None:
    depth = 0
    closers = set(_BLOCK_TAGS.values())
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK:
            continue
        name = token.contents.split(maxsplit=1)[0] if token.contents.strip() else ""
        if name in _BLOCK_TAGS:
            depth += 1
            if depth > MAX_NESTING:
                raise ValidationError(
                    _("Blocks are nested too deeply: at most %(max)d levels.")
                    % {"max": MAX_NESTING}
                )
        elif name in closers:
            depth = max(depth - 1, 0)


def render_text(template: Template, context: Mapping[str, object]) -> str:
    """Plain text (the caller escapes it where it becomes HTML, as every template does)."""
    return template.render(Context(context, autoescape=False))[:MAX_OUTPUT]
