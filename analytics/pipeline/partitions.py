"""On PostgreSQL each run's CustomerValue rows are a partition of their own (by run_id).

Maintaining three indexes row by row was most of the time of writing a run (14-17 s for
1,000,000 rows). So the chunks COPY into a bare table of the run's own, which nobody reads;
finish() builds its indexes in one sorted pass each (a CHECK on run_id from the start, so
attaching need not scan it) and, in the transaction that publishes the run, attaches it to
analytics_customervalue. Readers see the whole run or nothing; a failed or killed run
leaves an unattached table that fail() (or the next run) drops, and the current run is
untouched. Deleting a run drops its table instead of deleting a million rows.

The indexes are built from the partitioned table's own definitions, so an index added to
CustomerValue later is built for every new run's table too. SQLite (tests and the demo)
keeps one plain table and writes into it.
"""

from django.db import connection

from analytics.models import CustomerValue

PARENT = CustomerValue._meta.db_table
# Memory for the index builds' sorts (SET LOCAL): a million rows sort in memory.
INDEX_MEMORY = "256MB"
PRUNE_LOCK_WAIT = "2s"


def enabled() -> bool:
    return connection.vendor == "postgresql"


def table_of(run_id: int) -> str:
    return f"{PARENT}_r{int(run_id)}"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def create(run_id: int) -> None:
    """The run's empty table, shaped like the partitioned one (columns, defaults, checks),
    with the CHECK on run_id that lets ATTACH skip its scan: added while the table is
    empty, the COPY checks each row as it goes instead of a pass over a million rows."""
    table = table_of(run_id)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(table)}")
        cursor.execute(
            f"CREATE TABLE {_q(table)} "
            f"(LIKE {_q(PARENT)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS, "
            f"CONSTRAINT {_q(f'{table}_run')} CHECK (run_id = {int(run_id)}))"
        )


def _definitions(cursor) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The partitioned table's unique constraints and other indexes, as SQL for the run's
    table (a constraint must match a constraint for ATTACH to adopt it)."""
    cursor.execute(
        """
        SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
        WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'p')
        """,
        [PARENT],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid), ci.relname FROM pg_index i
        JOIN pg_class ci ON ci.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [PARENT],
    )
    indexes = cursor.fetchall()
    return constraints, indexes


def build_indexes(run_id: int) -> None:
    """Index the written table in one pass per index, then VACUUM and ANALYZE it (not yet
    attached: no reader waits for this).

    The VACUUM marks the freshly copied pages all-visible: until then an index-only scan
    of the run (an audience's segment semi-join) fetched every row from the table too, and
    autovacuum gets to a new table minutes later or, where it is off, never (make
    bench-audience: the "at risk" count read 174,000 rows from the heap). VACUUM cannot run
    in a transaction (the tests' own), where the table is only analysed."""
    table = _q(table_of(run_id))
    with connection.cursor() as cursor:
        constraints, indexes = _definitions(cursor)
        cursor.execute(f"SET maintenance_work_mem = '{INDEX_MEMORY}'")
        try:
            for name, definition in constraints:
                own = _q(f"{name}_r{int(run_id)}"[:63])
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {own} {definition}")
            for definition, name in indexes:
                own = _q(f"{name}_r{int(run_id)}"[:63])
                head, _on, tail = definition.partition(" ON ONLY ")
                if not tail:
                    head, _on, tail = definition.partition(" ON ")
                _target, _space, rest = tail.partition(" ")
                unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
                cursor.execute(f"CREATE {unique}INDEX {own} ON {table} {rest}")
        finally:
            cursor.execute("RESET maintenance_work_mem")
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        cursor.execute(f"{command} {table}")


def analyze_parent() -> None:
    """Statistics of the partitioned table as a whole, after a run is published.

    Autovacuum never analyses a partitioned table, only its partitions, and the planner
    reads the parent's statistics to estimate a semi-join on it (`customer_id IN (SELECT
    ... FROM analytics_customervalue WHERE run_id = ...)`): without them it assumed 200
    distinct customers in a segment of 174,000, probed the customers once per row and
    sorted the result on disk (make bench-audience: 0.5-1.1 s per count instead of
    0.15 s). ANALYZE samples 30,000 rows across the partitions (under a second)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {_q(PARENT)}")


def attach(run_id: int) -> None:
    """In the publishing transaction: the run's rows become part of CustomerValue."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {_q(PARENT)} ATTACH PARTITION {_q(table_of(run_id))} "
            f"FOR VALUES IN ({int(run_id)})"
        )


def drop(run_id: int) -> None:
    """The run's table, attached or not (a run deleted, failed or killed)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(table_of(run_id))}")


def drop_published(run_id: int) -> None:
    """A published run's table, in the caller's short transaction. Dropping a partition
    locks the partitioned table until the commit (a DETACH … CONCURRENTLY is refused beside
    the default partition), so it waits at most PRUNE_LOCK_WAIT behind a long report rather
    than queue every reader behind itself; LockNotAvailable then, and the next run tries
    again."""
    assert connection.in_atomic_block, "SET LOCAL needs the caller's transaction"
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{PRUNE_LOCK_WAIT}'")
        cursor.execute(f"DROP TABLE IF EXISTS {_q(table_of(run_id))}")


def written(run_id: int) -> int:
    """Rows a running run has written so far (its table is not attached yet)."""
    if not enabled():
        return CustomerValue.objects.filter(run_id=run_id).count()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_q(table_of(run_id))}")  # noqa: S608
        return int(cursor.fetchone()[0])
