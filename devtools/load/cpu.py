"""CPU time the load test's servers spent, per request: a capacity figure that holds steady
where requests per second at saturation do not (issue 18).

Requests per second at saturation move by a tenth from run to run on a shared 2-core
machine, and depend on how much of it locust itself takes. What a request costs does not:
the process time of gunicorn's workers, PostgreSQL, the Celery worker and beat, and Redis,
over the measured run, divided by the requests it answered. Cores ÷ that cost is how many
requests per second the machine could answer were the CPU the only limit.

Read from /proc (Linux): a process's own time, the time of its children that ended (a
gunicorn worker recycled after max_requests, a closed database connection's backend) and
that of its live children. PostgreSQL is the postmaster's tree, so another database's work
on the same server counts too; locust is not counted.
"""

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PART_NAMES = ("web", "database", "jobs", "redis")
_TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name: state, ppid, …"""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def process_table() -> dict[int, list[str]]:
    """Every process's stat fields, by pid (one pass over /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = stat_fields(int(entry.name))
            except OSError:  # ended meanwhile
                continue
    return table


def tree_seconds(pid: int, table: dict[int, list[str]]) -> float:
    """CPU seconds of the process, its ended children and its live children (`table`:
    process_table()). A child that ends between two readings moves from the live children
    to the parent's cutime: the sum only grows."""
    fields = table.get(pid) or stat_fields(pid)  # utime, stime, cutime, cstime: 14-17
    ticks = sum(int(fields[i]) for i in range(11, 15))
    ticks += sum(int(f[11]) + int(f[12]) for f in table.values() if int(f[1]) == pid)
    return ticks / _TICKS


def postmaster_of(backend_pid: int) -> int | None:
    """The PostgreSQL server process whose child `backend_pid` is, when both are on this
    machine (not in a container or on another host): else None."""
    try:
        parent = int(stat_fields(backend_pid)[1])
        names = [Path(f"/proc/{pid}/comm").read_text().strip() for pid in (backend_pid, parent)]
    except (OSError, IndexError, ValueError):
        return None
    return parent if all(name.startswith("postgres") for name in names) else None


def redis_seconds(client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


@dataclass
class Sampler:
    """Samples every part's CPU seconds (`read`: {part: seconds}) in a thread until
    stopped; `between` gives what each part spent between two times."""

    read: Callable[[], dict[str, float]]
    interval: float = 0.5
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.interval):
                return

    def _sample(self) -> None:
        try:
            self.samples.append((time.time(), self.read()))
        except Exception:  # noqa: BLE001 - a server gone or Redis down: no sample, no figure
            return

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds per part from the last sample at or before `start` to the first at
        or after `end` (the window widened to the samples around it)."""
        before = [s for s in self.samples if s[0] <= start] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= end] or self.samples[-1:]
        if not before:  # no sample at all
            return {}
        first, last = before[-1][1], after[0][1]
        return {name: last[name] - first[name] for name in last}


def cpu_lines(rows: list[tuple[str, dict[str, float], int]]) -> list[str]:
    """The table: per row (name, CPU seconds per part, requests) the milliseconds of CPU
    per request of each part, in all, and at most how many requests/s the machine's cores
    could answer at that cost."""
    header = (
        f"{'CPU ms per request':<22}"
        + "".join(f"{name:>9}" for name in PART_NAMES)
        + f"{'all':>9}{'at most':>15}"
    )
    lines = [header, "-" * len(header)]
    cores = os.cpu_count() or 1
    for name, seconds, requests in rows:
        if not requests:
            continue
        if any(part not in seconds for part in PART_NAMES):  # not read (see cpu_reader)
            cells = [f"{1000 * seconds[p] / requests:.1f}" if p in seconds else "n/a"
                     for p in PART_NAMES]  # fmt: skip
            lines.append(f"{name:<22}" + "".join(f"{cell:>9}" for cell in cells))
            continue
        per = {part: 1000 * seconds[part] / requests for part in PART_NAMES}
        total = sum(per.values())
        capacity = f"{1000 * cores / total:.1f} req/s" if total else ""
        lines.append(
            f"{name:<22}" + "".join(f"{per[p]:>9.1f}" for p in PART_NAMES)
            + f"{total:>9.1f}{capacity:>15}"
        )  # fmt: skip
    return lines
