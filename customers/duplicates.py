"""Possible duplicate customers: pairs sharing an email, a phone, a name or a similar name.

Each exact reason is a self-join on one normalised key (`a.key = b.key AND a.id < b.id`),
which the database runs as a hash join; a pair's reasons are folded into one row (a bit per
reason). Keys:
- email: lower-cased;
- phone: the digits (Customer.phone_digits), at least PHONE_MIN_DIGITS of them;
- name: lower-cased without spaces, dots and commas, so “ACME Ltd.” meets “Acme ltd”;
- similar name: the name key (customers/name_keys.py: words sorted, legal forms and titles
  dropped, so “Watts, Hazel” meets “Hazel Watts” and “Acme Corp.” meets “ACME Corporation
  Ltd”) and pg_trgm's similarity() of two keys of at least SIMILARITY.
A trigram self-join (`a.key % b.key` on a GIN index) probes the index once per customer:
8 ms each on 100,000 faker names, 14 minutes for the list. So, as record linkage's
sorted-neighbourhood method does, each distinct key is compared with its NEIGHBOURS next
keys in alphabetical order (a misspelt last word: “hazel wats” / “hazel watts”) and in the
order of the reversed keys (a misspelt first word): a bounded number of similarity() calls.
SQLite runs the same query with the Python key and similarity (customers.name_keys).
Pairs a manager dismissed (DuplicateDismissal) and erased customers are left out.

The query takes 5-15 s on 100,000 customers, so no page runs it: a refresh
(customers.duplicate_refresh: beat, after an import, a manager's “Refresh now”) stores the
pairs as DuplicateCandidate rows, which the page reads.
"""

from django.db import connection, transaction
from django.db.models import QuerySet

from customers.dedup_models import EMAIL, NAME, PHONE, SIMILAR
from customers.models import Customer, DuplicateCandidate, DuplicateDismissal

PHONE_MIN_DIGITS = 6
MAX_PAIRS = 20_000
SIMILARITY = 0.6  # “Hazel Wats” and “Hazel Watts” 0.77; “Hazel Watson” 0.56
NEIGHBOURS = 3
# A name key shared by more customers (a common name: 60 “Michael Smith”s among 100,000)
# makes thousands of pairs nobody can review, so it is left to the other rules.
MAX_SHARING_A_KEY = 10

_NAME_KEY = "LOWER(REPLACE(REPLACE(REPLACE({t}.name, ' ', ''), '.', ''), ',', ''))"
_BRANCHES = [
    (EMAIL, "LOWER({t}.email)", "{t}.email <> ''"),
    (PHONE, "{t}.phone_digits", f"LENGTH({{t}}.phone_digits) >= {PHONE_MIN_DIGITS}"),
    (NAME, _NAME_KEY, "{t}.name <> ''"),
]


def _similar_names_sql(table: str) -> str:
    """The pairs of customers whose name keys are equal or similar (see the module notes)."""
    postgres = connection.vendor == "postgresql"
    key = "name_key" if postgres else "customer_name_key(name)"
    collate = ' COLLATE "C"' if postgres else ""  # the same neighbours on both databases
    low, high = ("LEAST", "GREATEST") if postgres else ("MIN", "MAX")
    near = " UNION ".join(
        f"SELECT {low}(k, n) AS k1, {high}(k, n) AS k2 FROM (SELECT k, "  # noqa: S608
        f"LEAD(k, {step}) OVER (ORDER BY {order}{collate}) AS n FROM name_keys) ordered "
        "WHERE n IS NOT NULL"
        for order in ("k", "reverse(k)")
        for step in range(1, NEIGHBOURS + 1)
    )
    return (
        f"WITH named AS MATERIALIZED (SELECT id, {key} AS k FROM {table} "  # noqa: S608
        "WHERE erased_at IS NULL), "
        "name_keys AS MATERIALIZED (SELECT k FROM named WHERE k <> '' GROUP BY k "
        f"HAVING COUNT(*) <= {MAX_SHARING_A_KEY}), "
        f"similar_keys AS (SELECT k1, k2, similarity(k1, k2) AS score FROM ({near}) near "
        f"WHERE similarity(k1, k2) >= {SIMILARITY} UNION ALL SELECT k, k, 1.0 FROM name_keys) "
        f"SELECT {low}(a.id, b.id) AS first_id, {high}(a.id, b.id) AS second_id, "
        f"{SIMILAR} AS reason, s.score AS score "
        "FROM similar_keys s JOIN named a ON a.k = s.k1 JOIN named b ON b.k = s.k2 "
        "WHERE a.id <> b.id AND (s.k1 <> s.k2 OR a.id < b.id)"
    )


def pairs_sql() -> str:
    """The query of every pair; built from the constants above only (no input)."""
    table = Customer._meta.db_table
    dismissed = DuplicateDismissal._meta.db_table
    branches = []
    for flag, key, condition in _BRANCHES:
        branches.append(
            f"SELECT a.id AS first_id, b.id AS second_id, {flag} AS reason, 0 AS score "  # noqa: S608
            f"FROM {table} a JOIN {table} b "
            f"ON {key.format(t='a')} = {key.format(t='b')} AND a.id < b.id "
            f"WHERE {condition.format(t='a')} AND a.erased_at IS NULL AND b.erased_at IS NULL"
        )
    similar = f"SELECT * FROM ({_similar_names_sql(table)}) similar_names"  # noqa: S608
    union = " UNION ALL ".join([*branches, similar])
    not_dismissed = (
        f"NOT EXISTS (SELECT 1 FROM {dismissed} d "  # noqa: S608
        "WHERE d.first_id = pairs.first_id AND d.second_id = pairs.second_id)"
    )
    return (
        "SELECT first_id, second_id, SUM(reason) AS reasons, MAX(score) AS score "  # noqa: S608
        f"FROM ({union}) pairs WHERE {not_dismissed} GROUP BY first_id, second_id"
    )


def duplicate_candidates() -> QuerySet[DuplicateCandidate]:
    """The pairs the last refresh found, newest-first by the second record. A pair whose
    customer was erased since is left out; one merged or deleted went with its customer
    (cascade). A page reads its rows from the pair index alone (no join, so a deep page
    stays cheap), then its customers in two queries."""
    erased = Customer.objects.filter(erased_at__isnull=False).values("pk")
    return (
        DuplicateCandidate.objects.exclude(first_id__in=erased)
        .exclude(second_id__in=erased)
        .prefetch_related("first", "second")
        .order_by("-second_id", "-first_id")
    )


@transaction.atomic
def duplicate_dismiss(*, first: Customer, second: Customer, user) -> DuplicateDismissal:
    """“Not duplicates”: remembered for the pair, whichever way round it is given."""
    if first.pk == second.pk:
        raise ValueError("a customer is not a pair")
    low, high = sorted([first.pk, second.pk])
    dismissal, _created = DuplicateDismissal.objects.get_or_create(
        first_id=low, second_id=high, defaults={"dismissed_by": user}
    )
    DuplicateCandidate.objects.filter(first_id=low, second_id=high).delete()  # off the list now
    return dismissal
