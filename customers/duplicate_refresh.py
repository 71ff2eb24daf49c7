"""The refresh of the possible duplicates: customers.duplicates' pair query, run set-based
(one INSERT … SELECT), replaces the stored DuplicateCandidate rows in one transaction, so the
page reads the previous set until the new one commits and a failed refresh leaves it intact.

Started by beat (every CRM_DUPLICATES_REFRESH_MINUTES), after a customer import is applied,
and by a manager's “Refresh now”; one runs at a time (a transaction-level advisory lock on
PostgreSQL; SQLite serialises writers itself)."""

import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from crm.lib.tasks import queue_on_commit
from customers.duplicates import MAX_PAIRS, pairs_sql
from customers.models import DuplicateCandidate, DuplicateRefresh

STATE_PK = 1
# A refresh asked for or started longer ago than this and not finished died with its worker:
# the page stops saying it is running and the button queues another.
STALE_AFTER = timedelta(minutes=30)
_LOCK_KEY = 7_316_001  # pg_advisory_xact_lock's key for this job


def duplicate_refresh_state() -> DuplicateRefresh:
    state, _created = DuplicateRefresh.objects.get_or_create(pk=STATE_PK)
    return state


def refresh_in_progress(state: DuplicateRefresh) -> bool:
    """Asked for or started after the last finish, recently enough to be alive."""
    last = state.finished_at
    since = timezone.now() - STALE_AFTER
    return any(
        moment is not None and moment > since and (last is None or moment > last)
        for moment in (state.requested_at, state.started_at)
    )


def duplicates_refresh_queue() -> bool:
    """Queue a refresh once the current transaction commits, unless one is on its way
    already. True when one was queued."""
    from customers.tasks import refresh_duplicates  # the tasks module imports services

    state = duplicate_refresh_state()
    if refresh_in_progress(state):
        return False
    DuplicateRefresh.objects.filter(pk=STATE_PK).update(requested_at=timezone.now())
    queue_on_commit(refresh_duplicates)
    return True


def duplicates_refresh() -> int:
    """Find every pair again and make them the list; the number of pairs stored."""
    duplicate_refresh_state()
    started = timezone.now()
    clock = time.monotonic()
    DuplicateRefresh.objects.filter(pk=STATE_PK).update(started_at=started)  # shown at once
    with transaction.atomic():
        _lock()
        DuplicateCandidate.objects.all().delete()
        found = _insert_pairs(found_at=started)
        DuplicateRefresh.objects.filter(pk=STATE_PK).update(
            finished_at=timezone.now(),
            pairs_found=found,
            duration_seconds=round(time.monotonic() - clock, 3),
        )
    return found


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _plan_for_whole_tables(cursor) -> None:
    """The pair query joins whole tables: hash joins, sorts and window sorts in memory, and
    no nested loop. After the demo's seeding (or an import into a new database) the table
    had no statistics; the planner took "not erased" for 0.5 % of the rows and joined the
    phones by a nested loop over the trigram index, one probe per customer: over 12 minutes
    for 100,000 customers instead of 3.5 s. (Not ANALYZE: its row count is written outside
    the transaction, so a rolled-back refresh would leave the planner a false one.)"""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL enable_nestloop = off")


def pairs_plan() -> str:
    """EXPLAIN of the pair query as the refresh plans it (for tests and operators)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _plan_for_whole_tables(cursor)
        cursor.execute(f"EXPLAIN {pairs_sql()}")  # noqa: S608
        return "\n".join(row[0] for row in cursor.fetchall())


def _insert_pairs(*, found_at) -> int:
    table = DuplicateCandidate._meta.db_table
    with connection.cursor() as cursor:
        _plan_for_whole_tables(cursor)
        cursor.execute(
            f"INSERT INTO {table} (first_id, second_id, reasons, score, found_at) "  # noqa: S608
            f"SELECT first_id, second_id, reasons, COALESCE(score, 0), %s FROM ({pairs_sql()}) "
            "found ORDER BY second_id DESC, first_id DESC LIMIT %s",
            [found_at, MAX_PAIRS],
        )
        return max(cursor.rowcount, 0)
