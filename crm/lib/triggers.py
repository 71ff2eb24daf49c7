"""The triggers that keep a summary table in step with every write to a table.

PostgreSQL: one statement-level trigger per event, `<prefix>_<event>`, seeing the statement's
rows in transition tables (a bulk write runs each trigger once) and calling the trigger
function `<function prefix>_<event>()`, which the caller creates first.
SQLite has only row-level triggers, named alike; each caller writes their bodies (NEW and
OLD instead of the transition tables) and drops them here.
"""

from dataclasses import dataclass

# Each event's trigger: when it runs, and the transition tables it sees (`REFERENCING`).
_EVENTS = {
    "inserted": ("INSERT", "NEW TABLE AS {new}"),
    "updated": ("UPDATE", "OLD TABLE AS {old} NEW TABLE AS {new}"),
    "deleted": ("DELETE", "OLD TABLE AS {old}"),
    "truncated": ("TRUNCATE", ""),  # no rows to see
}
ROW_EVENTS = ("inserted", "updated", "deleted")  # what SQLite triggers on (no TRUNCATE)


@dataclass(frozen=True)
class StatementTriggers:
    """The triggers `<prefix>_<event>` on `table`, calling `<function>_<event>()`."""

    table: str
    prefix: str
    function: str
    old_rows: str  # the transition tables' names, as the functions read them
    new_rows: str
    events: tuple[str, ...] = ROW_EVENTS

    def name(self, event: str) -> str:
        return f"{self.prefix}_{event}"

    def postgresql(self) -> list[str]:
        """CREATE TRIGGER for each event, after the functions exist."""
        return [self._pg_trigger(event) for event in self.events]

    def _pg_trigger(self, event: str) -> str:
        when, tables = _EVENTS[event]
        referencing = tables.format(old=self.old_rows, new=self.new_rows)
        header = f"CREATE TRIGGER {self.name(event)} AFTER {when} ON {self.table}\n    "
        if referencing:
            header += f"REFERENCING {referencing}\n    "
        return f"{header}FOR EACH STATEMENT EXECUTE FUNCTION {self.function}_{event}()"

    def postgresql_drop(self) -> list[str]:
        """The triggers, then their functions."""
        return [
            *(f"DROP TRIGGER IF EXISTS {self.name(e)} ON {self.table}" for e in self.events),
            *(f"DROP FUNCTION IF EXISTS {self.function}_{e}()" for e in self.events),
        ]

    def sqlite_drop(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.name(e)}" for e in self.events if e in ROW_EVENTS]
