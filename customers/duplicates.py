"""Possible duplicate customers: pairs sharing an email, a phone or a name, found in SQL.

Each reason is a self-join on one normalised key (`a.key = b.key AND a.id < b.id`), which
the database runs as a hash join: no pairwise comparison in Python, and a pair's reasons
are folded into one row (a bit per reason). Keys:
- email: lower-cased;
- phone: the digits (Customer.phone_digits), at least PHONE_MIN_DIGITS of them;
- name: lower-cased without spaces, dots and commas, so “ACME Ltd.” meets “Acme ltd”.
  (PostgreSQL's pg_trgm would also pair misspellings, but a similarity join is pairwise
  and not fast on 100,000 customers; the key works the same on SQLite.)
Pairs a manager dismissed (DuplicateDismissal) and erased customers are left out.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, DuplicateDismissal

PHONE_MIN_DIGITS = 6
MAX_PAIRS = 20_000
EMAIL, PHONE, NAME = 1, 2, 4
REASONS = {EMAIL: _("Same email"), PHONE: _("Same phone"), NAME: _("Same name")}

_NAME_KEY = "LOWER(REPLACE(REPLACE(REPLACE({t}.name, ' ', ''), '.', ''), ',', ''))"
_BRANCHES = [
    (EMAIL, "LOWER({t}.email)", "{t}.email <> ''"),
    (PHONE, "{t}.phone_digits", f"LENGTH({{t}}.phone_digits) >= {PHONE_MIN_DIGITS}"),
    (NAME, _NAME_KEY, "{t}.name <> ''"),
]


def _pairs_sql() -> str:
    """The query of every pair; built from the constants above only (no input)."""
    table = Customer._meta.db_table
    dismissed = DuplicateDismissal._meta.db_table
    branches = []
    for flag, key, condition in _BRANCHES:
        branches.append(
            f"SELECT a.id AS first_id, b.id AS second_id, {flag} AS reason "  # noqa: S608
            f"FROM {table} a JOIN {table} b "
            f"ON {key.format(t='a')} = {key.format(t='b')} AND a.id < b.id "
            f"WHERE {condition.format(t='a')} AND a.erased_at IS NULL AND b.erased_at IS NULL"
        )
    union = " UNION ALL ".join(branches)
    not_dismissed = (
        f"NOT EXISTS (SELECT 1 FROM {dismissed} d "  # noqa: S608
        "WHERE d.first_id = pairs.first_id AND d.second_id = pairs.second_id)"
    )
    return (
        f"SELECT first_id, second_id, SUM(reason) AS reasons FROM ({union}) pairs "  # noqa: S608
        f"WHERE {not_dismissed} GROUP BY first_id, second_id"
    )


@dataclass
class DuplicatePair:
    first: Customer
    second: Customer
    reasons: list[str]


class DuplicatePairs:
    """The possible duplicate pairs, newest-first by the second record, for a Paginator.

    One query finds the pairs (their ids, at most MAX_PAIRS: a name shared by hundreds of
    customers would otherwise list every two of them); the count and the page read that
    list, and a page's customers come in a second query."""

    def __init__(self) -> None:
        self._rows: list[tuple[int, int, int]] | None = None

    def _all(self) -> list[tuple[int, int, int]]:
        if self._rows is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"{_pairs_sql()} ORDER BY second_id DESC, first_id DESC LIMIT %s",  # noqa: S608
                    [MAX_PAIRS],
                )
                self._rows = [(int(a), int(b), int(r)) for a, b, r in cursor.fetchall()]
        return self._rows

    def count(self) -> int:
        return len(self._all())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, k: slice) -> list[DuplicatePair]:
        rows = self._all()[k]
        ids = {pk for row in rows for pk in row[:2]}
        customers = Customer.objects.select_related("owner").in_bulk(ids)
        return [
            DuplicatePair(
                customers[first], customers[second], [str(REASONS[f]) for f in REASONS if r & f]
            )
            for first, second, r in rows
            if first in customers and second in customers  # not deleted meanwhile
        ]


def duplicate_pairs() -> DuplicatePairs:
    return DuplicatePairs()


@transaction.atomic
def duplicate_dismiss(*, first: Customer, second: Customer, user) -> DuplicateDismissal:
    """“Not duplicates”: remembered for the pair, whichever way round it is given."""
    if first.pk == second.pk:
        raise ValueError("a customer is not a pair")
    low, high = sorted([first.pk, second.pk])
    dismissal, _created = DuplicateDismissal.objects.get_or_create(
        first_id=low, second_id=high, defaults={"dismissed_by": user}
    )
    return dismissal
