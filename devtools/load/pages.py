"""Reading the CRM's HTML the way a browser would: forms with their current values, links,
board cards. The standard library only: it runs inside locust, not inside Django."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    multi: dict[str, list[str]] = field(default_factory=dict)  # checked boxes, multi-selects

    def data(self, **values: str) -> list[tuple[str, str]]:
        """What the browser would submit, with `values` typed over the defaults."""
        pairs = [(k, v) for k, v in {**self.fields, **values}.items()]
        pairs += [(k, v) for k, vs in self.multi.items() if k not in values for v in vs]
        return pairs


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None  # name, multiple
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") and tag != "option":
            return
        elif tag == "input":
            self._input(a)
        elif tag == "select":
            self._select = (a["name"], "multiple" in a)
            self._select_first, self._select_chosen = None, False
        elif tag == "option" and self._select is not None:
            self._option(a)
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def _input(self, a: dict[str, str]) -> None:
        assert self._form is not None
        kind, name, value = a.get("type", "text").lower(), a["name"], a.get("value", "")
        if kind in ("checkbox", "radio"):
            if "checked" in a:
                if kind == "checkbox":
                    self._form.multi.setdefault(name, []).append(value or "on")
                else:
                    self._form.fields[name] = value
        elif kind not in ("submit", "button", "file", "image", "reset"):
            self._form.fields[name] = value

    def _option(self, a: dict[str, str]) -> None:
        assert self._form is not None and self._select is not None
        name, multiple = self._select
        value = a.get("value", "")
        if self._select_first is None:
            self._select_first = value
        if "selected" in a:
            if multiple:
                self._form.multi.setdefault(name, []).append(value)
            else:
                self._form.fields[name] = value
            self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._form is not None and self._select is not None:
            name, multiple = self._select
            if not multiple and not self._select_chosen and self._select_first is not None:
                self._form.fields[name] = self._select_first
            self._select = None
        elif tag == "textarea" and self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea] = "".join(self._text).removeprefix("\n")
            self._textarea = None


def form_posting_to(html: str, action_suffix: str) -> Form | None:
    """The first form whose action ends with `action_suffix`; "" finds the form without an
    action (it posts to the page itself)."""
    parser = _FormParser()
    parser.feed(html)
    if not action_suffix:
        return next((f for f in parser.forms if not f.action), None)
    return next((f for f in parser.forms if f.action.endswith(action_suffix)), None)


def ids_linked(html: str, prefix: str) -> list[int]:
    """Ids in links like href="<prefix><id>/" (the customer, ticket or deal pages)."""
    return [int(pk) for pk in re.findall(rf'href="{re.escape(prefix)}(\d+)/"', html)]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""


@dataclass(frozen=True)
class Card:
    deal: int
    version: str
    stage: int


@dataclass
class Board:
    open_stages: list[int]
    cards: list[Card]  # movable cards in open stages


_BOARD_TOKEN = re.compile(
    r'<section class="board-column(?P<closed> board-won| board-lost)?"'
    r'|data-stage="(?P<stage>\d+)"'
    r'|<article class="deal-card[^"]*?(?P<locked> locked)?" data-deal="(?P<deal>\d+)" '
    r'data-version="(?P<version>\d+)"'
)


def board(html: str) -> Board:
    """The open stages and the cards the user may drag, from the board's markup."""
    result, stage, closed = Board([], []), 0, False
    for m in _BOARD_TOKEN.finditer(html):
        if m.group(0).startswith("<section"):
            closed = bool(m.group("closed"))
        elif m.group("stage"):
            stage = int(m.group("stage"))
            if not closed:
                result.open_stages.append(stage)
        elif not closed and not m.group("locked"):
            result.cards.append(Card(int(m.group("deal")), m.group("version"), stage))
    return result
