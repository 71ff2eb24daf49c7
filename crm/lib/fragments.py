"""Rendered template fragments kept in the worker's memory, keyed by what they show.

A list page's filter sidebar was a third of its rendering time (issue 18): crispy's field
templates and Django's widget templates, an include per option, for every field on every
request, although the sidebar is the same for most requests (the pages of a list, the
users of one language). `{% formcache %}` (crm/templatetags/form_fragments.py) keeps the
HTML here, keyed by a fingerprint of everything the fields show: the submitted values,
the options offered (read from the database on every request, so a new tag or owner shows
at once), labels, widget attributes, errors, the language and time zone. Nothing has to
be invalidated: a change of any of those is a new key.

In the process's memory rather than the shared cache: a lookup costs no round trip, and
a deploy (new templates) starts with new processes, so no HTML of the old templates is
ever served. Bounded: the least recently used fragments leave first.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from django import forms
from django.utils import timezone, translation

MAX_FRAGMENTS = 256


class FragmentCache:
    """A small thread-safe LRU of rendered HTML (gunicorn may run threads)."""

    def __init__(self, max_size: int = MAX_FRAGMENTS) -> None:
        self.max_size = max_size
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> str:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
                return html
        html = render()  # outside the lock: another thread may render the same; both agree
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def kept_from(self, template_name: str) -> int:
        """How many `{% valuecache %}` fragments of this template are kept (their key's place
        starts with its name: form_fragments.valuecache)."""
        with self._lock:
            keys = list(self._items)
        place = f"{template_name}:"
        return len([k for k in keys if isinstance(k, tuple) and str(k[0]).startswith(place)])


fragments = FragmentCache()
# Fragments keyed by the values they show (`{% valuecache %}`): many small ones per page
# (the board's cards), so their own store, which cannot push the sidebars out.
MAX_VALUE_FRAGMENTS = 4096
value_fragments = FragmentCache(MAX_VALUE_FRAGMENTS)


def values_key(place: str, values: Hashable) -> Hashable:
    """The key of a fragment that shows `values` (hashable: plain fields), with the language
    and time zone."""
    return (place, translation.get_language(), timezone.get_current_timezone_name(), values)


def _choices(widget: forms.Widget) -> list[tuple[str, str]]:
    """The options the widget renders (crm.lib.forms.offer_choices may have replaced the
    field's), as text. Model choices are read from the database here, and kept on the
    widget, so that rendering them after a miss reads them no second time."""
    if not hasattr(widget, "choices"):
        return []
    widget.choices = list(iter(widget.choices))  # iter: no COUNT query for the length
    options: list[tuple[str, str]] = []
    for value, label in widget.choices:
        if isinstance(label, list | tuple):  # an optgroup
            options += [(f"{value}:{v}", str(text)) for v, text in label]
        else:
            options.append((str(value), str(label)))
    return options


def _widget_parts(widget: forms.Widget) -> list[object]:
    widgets: Iterable[forms.Widget] = getattr(widget, "widgets", [widget])
    return [
        (type(w).__module__, type(w).__qualname__, sorted((k, str(v)) for k, v in w.attrs.items()),
         _choices(w))
        for w in widgets
    ]  # fmt: skip


def form_fingerprint(
    form: forms.BaseForm, *extra: object, fields: Iterable[str] | None = None
) -> str:
    """A digest of what rendering the form's fields (or only `fields`, by name) shows, plus
    `extra` (context the fragment also reads)."""
    errors = form.errors if form.is_bound else {}
    if fields is not None:
        names = set(fields)
        errors = {name: errs for name, errs in errors.items() if name in names}
    parts: list[object] = [
        type(form).__module__, type(form).__qualname__, form.prefix, form.auto_id,
        form.is_bound, translation.get_language(), timezone.get_current_timezone_name(),
        sorted((name, [str(e) for e in errs]) for name, errs in errors.items()),
        [str(e) for e in extra],
    ]  # fmt: skip
    for bound in form if fields is None else (form[name] for name in fields):
        field = bound.field
        parts.append(
            (bound.name, repr(bound.value()), str(bound.label), str(field.help_text),
             field.required, field.disabled, field.show_hidden_initial,
             _widget_parts(field.widget))
        )  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()
