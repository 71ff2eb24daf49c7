"""Template mistakes in words a marketer or an agent understands, translated (shared by the
marketing personalisation and the service macros, crm.lib.template_sandbox).

Django's TemplateSyntaxError messages are written for programmers, in English only
("Invalid block tag on line 1: 'for'. Did you forget to register or load this tag?").
`explain` recognises the usual ones from their (stable, untranslated) text and says what
to do instead; anything else gets a general hint with the line when Django gives one.
"""

import re

from django.utils.translation import gettext as _

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Invalid block tag on line (?P<line>\d+): '(?P<name>end\w*)'"), "stray_end"),
    (re.compile(r"Invalid block tag on line (?P<line>\d+): '(?P<name>[^']*)'"), "tag"),
    (re.compile(r"Unclosed tag on line (?P<line>\d+): '(?P<name>[^']*)'"), "unclosed"),
    (re.compile(r"Invalid filter: '(?P<name>[^']*)'"), "filter"),
    (re.compile(r"(?P<name>\w+) requires \d+ arguments?"), "filter_argument"),
    (re.compile(r"Could not parse the remainder: '(?P<name>[^']*)'"), "remainder"),
    (re.compile(r"Empty variable tag on line (?P<line>\d+)"), "empty"),
    (re.compile(r"in if tag|if statement|Unused '"), "condition"),
]


def explain(error: Exception, filters: tuple[str, ...]) -> str:
    """One sentence about `error` (a TemplateSyntaxError or RecursionError)."""
    text = str(error)
    for pattern, kind in _PATTERNS:
        match = pattern.search(text)
        if match:
            return _message(kind, match.groupdict(), filters)
    line = re.search(r"line (\d+)", text)
    if line:
        return _("There is a mistake on line %(line)s: check that every {{ has its }} and "
                 "every {%% has its %%}.") % {"line": line.group(1)}  # fmt: skip
    return _("There is a mistake in the template: check that every {{ has its }} and "
             "every {% has its %}.")  # fmt: skip


def _message(kind: str, found: dict, filters: tuple[str, ...]) -> str:
    name = (found.get("name") or "")[:40]
    line = found.get("line", "")
    if kind == "stray_end":
        return _("Line %(line)s: “{%% %(name)s %%}” closes a block that was never opened.") % {
            "line": line,
            "name": name,
        }
    if kind == "tag":
        return _("Line %(line)s: “{%% %(name)s %%}” cannot be used in a message; only "
                 "{%% if %%} … {%% else %%} … {%% endif %%} and {%% comment %%} can.") % {
            "line": line, "name": name}  # fmt: skip
    if kind == "unclosed":
        return _("Line %(line)s: this {%% %(name)s %%} is never closed: add "
                 "{%% end%(name)s %%} where it ends.") % {"line": line, "name": name}  # fmt: skip
    if kind == "filter":
        return _("The filter “%(name)s” cannot be used. You can use: %(filters)s.") % {
            "name": name,
            "filters": ", ".join(filters),
        }
    if kind == "filter_argument":
        return _("The filter “%(name)s” needs a number, for example "
                 "{{ name|%(name)s:20 }}.") % {"name": name}  # fmt: skip
    if kind == "remainder":
        return _("“%(text)s” is not understood: write a field as {{ first_name }}, "
                 "letters and underscores only.") % {"text": name}  # fmt: skip
    if kind == "empty":
        return _("Line %(line)s: “{{ }}” is empty: put a field name inside.") % {"line": line}
    return _("A condition is incomplete: write it as {% if first_name %} … {% endif %}.")
