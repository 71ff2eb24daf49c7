"""Personalised subjects and messages in a sandboxed template language.

Marketers write Django template syntax, but compiled by an engine of our own whose only
tags are `if`/`elif`/`else` and `comment` and whose only filters are a few text ones: no
`load`, `include`, `extends`, `debug`, `ssi`, `for` or `now`, so a template can neither
read files nor loop. And the context is a plain dict of strings (FIELDS), never a model:
`{{ customer.owner.password }}` or `{{ settings.SECRET_KEY }}` has nothing to resolve
(Django also refuses attributes starting with "_"). Unknown fields are refused when the
campaign is saved; a template stored some other way still renders them as nothing.
"""

from dataclasses import dataclass

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
from django.utils.translation import gettext_lazy

from crm.lib.template_errors import explain

FIELDS = (
    "name",
    "first_name",
    "owner",
    "coupon_code",
    "offer",
    "unsubscribe_link",
    "recommended_products",
)
# What each field holds, listed beside the editor (the campaign form).
FIELD_HELP = {
    "name": gettext_lazy("The customer's full name"),
    "first_name": gettext_lazy("The first word of the name"),
    "owner": gettext_lazy("The customer's sales rep"),
    "coupon_code": gettext_lazy("The recipient's own coupon code"),
    "offer": gettext_lazy("The campaign's offer"),
    "unsubscribe_link": gettext_lazy("The link to stop these messages"),
    "recommended_products": gettext_lazy("Up to three recommended products"),
}
# Text filters that take no argument able to make the output large (no ljust/center).
_FILTERS = ("default", "upper", "lower", "title", "capfirst", "truncatechars", "truncatewords")
MAX_OUTPUT = 100_000
# Blocks inside blocks: the parser and the renderer recurse once per level, so a thousand
# levels overflowed Python's stack (a 500 on save). No real message needs more than a few.
MAX_NESTING = 20
_BLOCK_TAGS = {"if": "endif", "comment": "endcomment"}


def _library() -> Library:
    library = Library()
    library.tags["if"] = defaulttags.do_if
    library.tags["comment"] = defaulttags.comment
    for name in _FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    return library


def _engine(*, autoescape: bool) -> Engine:
    engine = Engine(libraries={}, autoescape=autoescape, string_if_invalid="")
    engine.template_builtins = [_library()]  # replaces the default tags, filters and loaders
    return engine


_TEXT = _engine(autoescape=False)


def compile_template(source: str) -> Template:
    """The compiled template; ValidationError with a readable message if it is not allowed."""
    _check_nesting(source or "")
    try:
        template = Template(source or "", engine=_TEXT)
    except (TemplateSyntaxError, RecursionError) as error:
        raise ValidationError(
            _("%(problem)s Allowed fields: %(fields)s.")
            % {"problem": explain(error, _FILTERS), "fields": _field_list()}
        ) from error
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


def check_template(source: str) -> None:
    """Refuse tags outside the sandbox and fields that are not personalisation fields."""
    template = compile_template(source)
    variables = [
        node.filter_expression.var
        for node in template.nodelist.get_nodes_by_type(VariableNode)
        if isinstance(node, VariableNode)  # the stubs type the result as plain Nodes
    ]
    unknown = sorted({str(var) for var in variables if not _is_allowed(var)})
    if unknown:
        raise ValidationError(
            _("There is no field called %(unknown)s (check the spelling). Allowed fields: "
              "%(fields)s.")
            % {"unknown": ", ".join(unknown), "fields": _field_list()}
        )  # fmt: skip


def _is_allowed(var: object) -> bool:
    if not isinstance(var, Variable):  # a literal such as {{ "text" }} resolves to its value
        return True
    return var.var in FIELDS


def _field_list() -> str:
    return ", ".join("{{ %s }}" % name for name in FIELDS)  # noqa: UP031 - braces


@dataclass(frozen=True)
class Personalisation:
    """The strings one recipient's message may show."""

    name: str
    first_name: str
    owner: str
    coupon_code: str
    offer: str
    unsubscribe_link: str
    recommended_products: str = ""

    def as_context(self) -> dict[str, str]:
        return {key: str(getattr(self, key)) for key in FIELDS}


def render(template: Template, fields: Personalisation) -> str:
    text = template.render(Context(fields.as_context(), autoescape=False))
    return text[:MAX_OUTPUT]


def render_subject(template: Template, fields: Personalisation) -> str:
    # One line: a newline in a header would be refused by the mail module.
    return " ".join(render(template, fields).split())[:250]


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def personalisation_for(
    customer, *, coupon_code: str, offer: str, unsubscribe_link: str, recommended: str | None = None
) -> Personalisation:
    """The fields for `customer` (with `owner` selected); `recommended` when batch-loaded."""
    owner = customer.owner
    if recommended is None:
        recommended = recommended_products([customer.pk]).get(customer.pk, "")
    return Personalisation(
        name=customer.name,
        first_name=first_name(customer.name),
        owner=(owner.get_full_name() or owner.get_username()) if owner else "",
        coupon_code=coupon_code,
        offer=offer,
        unsubscribe_link=unsubscribe_link,
        recommended_products=recommended,
    )


def recommended_products(customer_ids: list[int], per_customer: int = 3) -> dict[int, str]:
    """Product names the current analytics run recommends, per customer, in two queries."""
    from analytics.models import Recommendation
    from analytics.selectors import current_run

    run = current_run()
    if run is None or not customer_ids:
        return {}
    rows = (
        Recommendation.objects.filter(run=run, customer_id__in=customer_ids, rank__lte=per_customer)
        .order_by("customer_id", "rank")
        .values_list("customer_id", "product__name")
    )
    names: dict[int, list[str]] = {}
    for customer_id, name in rows:
        names.setdefault(customer_id, []).append(name)
    return {customer_id: ", ".join(values) for customer_id, values in names.items()}
