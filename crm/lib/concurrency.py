"""The one "someone else saved this" guard, for services, and its one re-shown form, for views.

A row with a `version` column is edited like this: the form carries the version the user saw;
the service locks the row with `lock_for_update`, which refuses the change with
`ConcurrentEditError` unless the row still has that version; the service saves it with
`save_new_version`. A missing version is a conflict, not a pass: only a change that is not a
person's edit of what they saw (a reply appended to a ticket, a won deal moving stage inside
another locked change) may pass `NOT_A_USER_EDIT`, and it says so where it does.

On a conflict the view calls `form_after_conflict`: the user's input comes back bound to the
current version (saving again is a deliberate overwrite), with the message and the values the
other person saved where they differ from the user's.
"""

import enum
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypedDict, TypeVar

from django import forms
from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext as _

M = TypeVar("M", bound=models.Model)
F = TypeVar("F", bound=forms.BaseForm)  # a Form or a ModelForm


class VersionCheck(enum.Enum):
    NOT_A_USER_EDIT = "not a user edit"


# For a change no person made from a form: there is no version they saw to compare.
NOT_A_USER_EDIT = VersionCheck.NOT_A_USER_EDIT
ExpectedVersion = int | None | Literal[VersionCheck.NOT_A_USER_EDIT]


class ConcurrentEditError(Exception):
    """The record changed since the user opened the form; `current` is the row as saved now."""

    def __init__(self, message: str, *, current: models.Model | None = None) -> None:
        super().__init__(message)
        self.current = current


def lock_for_update(
    instance: M,
    *,
    expected_version: ExpectedVersion,
    conflict_message: str,
    queryset: "models.QuerySet[M] | None" = None,
) -> M:
    """The row of `instance`, locked until the transaction ends (`queryset` may add joins
    and filters).

    Only that row, and as an UPDATE locks it (FOR NO KEY UPDATE): a plain FOR UPDATE of a
    query with joins also locked every joined row (a deal's stage), and two deals moved at
    once into each other's stages deadlocked at commit, each one's foreign-key check waiting
    for the stage the other had locked. FOR NO KEY UPDATE does not block the KEY SHARE lock
    that foreign-key checks take, so others may still insert rows that refer to this one.

    The lock is taken by a query without joins (values() drops them; the filters stay), and
    the row read with them afterwards: when the row changes while we wait, PostgreSQL
    rechecks a locking query's joins against the joined rows as first read, so a deal another
    session had just moved to another stage was not found at all (Deal.DoesNotExist, a 500,
    instead of the conflict below).

    Raises ConcurrentEditError carrying the locked row when its version is not
    `expected_version`, including when no version was given (None).
    """
    if queryset is None:  # no joins: locked and read at once
        rows = type(instance)._default_manager.select_for_update(no_key=True)
        locked = rows.get(pk=instance.pk)
    else:
        lock = queryset.select_for_update(of=("self",), no_key=True).filter(pk=instance.pk)
        lock.values("pk").get()
        # READ COMMITTED: this statement sees what the lock's holder committed.
        locked = queryset.get(pk=instance.pk)
    if expected_version is NOT_A_USER_EDIT:
        return locked
    if expected_version is None or locked.version != expected_version:  # type: ignore[attr-defined]
        raise ConcurrentEditError(conflict_message, current=locked)
    return locked


def save_new_version(instance: models.Model) -> None:
    """Validate and save a locked row as its next version."""
    instance.version += 1  # type: ignore[attr-defined]
    instance.full_clean()
    instance.save()


class Difference(TypedDict):
    """A field the other person saved with a value other than the user's input."""

    label: str
    theirs: str


def form_after_conflict(
    error: ConcurrentEditError,
    *,
    posted: QueryDict,
    bind: Callable[[QueryDict | None, Any], F],
    ignore: Iterable[str] = (),
) -> tuple[F, list[Difference]]:
    """The user's input bound to the current version, with the error on top, and what the
    other person saved where it differs from that input.

    `bind(data, current)` builds the edit form of the current row (unbound when data is None).
    """
    current = error.current
    if current is None:
        raise ValueError("A conflict to re-show must carry the current row.")
    theirs = bind(None, current)  # first: binding a model form writes the input onto `current`
    data = posted.copy()
    data["version"] = str(current.version)  # type: ignore[attr-defined]
    form = bind(data, current)
    form.is_valid()
    form.add_error(None, str(error))
    return form, differences(form, theirs, ignore=ignore)


def differences(
    mine: forms.BaseForm, theirs: forms.BaseForm, *, ignore: Iterable[str] = ()
) -> list[Difference]:
    """The visible fields where the saved values (`theirs`, unbound) differ from `mine`."""
    skipped = {"version", *ignore}
    found: list[Difference] = []
    for name, field in mine.fields.items():
        if name in skipped or field.widget.is_hidden or name not in theirs.fields:
            continue
        my_value, their_value = mine[name].value(), theirs[name].value()
        if isinstance(field, forms.BooleanField):
            my_value, their_value = field.to_python(my_value), field.to_python(their_value)
        if _as_text(my_value) != _as_text(their_value):
            found.append(Difference(label=str(field.label), theirs=_display(field, their_value)))
    return found


def _as_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ",".join(sorted(str(v) for v in value))
    # `is`, not `in`: 0 == False, and a saved 0 is a value, not an empty field.
    return "" if value is None or value is False else str(value)


def _display(field: forms.Field, value: object) -> str:
    choices = dict(getattr(field, "choices", []) or [])
    if isinstance(value, list | tuple):
        return ", ".join(str(choices.get(v, v)) for v in value) or "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return str(choices.get(value, value)) if value not in (None, "") else "—"
