"""After a load run: did every write land exactly once, what did the pages take, and did the
server answer any 5xx? Runs in Django (the `bench_load` command and its test)."""

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db.models import Model

from core.models import OutboxMessage
from customers.models import Customer, Interaction, Task
from marketing.models import Campaign
from sales.models import DealStageChange
from service.models import TicketMessage

# Each write kind the locust users make, and the model and text field carrying its marker.
MARKED: dict[str, tuple[type[Model], str]] = {
    "customer": (Customer, "name"),
    "interaction": (Interaction, "summary"),
    "task": (Task, "title"),
    "ticket reply": (TicketMessage, "body"),
    "campaign": (Campaign, "name"),
}
DEAL_MOVE = "deal move"
OK, CONFLICT, ERROR = "ok", "conflict", "error"


@dataclass
class WriteTally:
    kind: str
    sent: int = 0  # answered as saved
    landed: int = 0  # rows carrying those writes' markers
    doubled: int = 0  # rows beyond one per write
    lost: int = 0  # saved writes with no row
    refused: int = 0  # answered 409: a concurrent edit, nothing written (by design)
    errors: int = 0  # answered an error: the user saw it did not save
    ghosts: int = 0  # rows of writes that answered an error or a refusal

    @property
    def exact(self) -> bool:
        return self.landed == self.sent and not (self.doubled or self.lost or self.ghosts)


def read_writes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def marker_pattern(run: str) -> re.Pattern[str]:
    return re.compile(re.escape(run) + r"-[0-9a-f]{12}")


def tally_writes(writes: list[dict], run: str, since: datetime) -> list[WriteTally]:
    """One tally per kind of write, from the recorded requests and the database's rows."""
    tallies = [_tally_marked(kind, writes, run) for kind in MARKED]
    tallies.append(_tally_moves(writes, since))
    return [t for t in tallies if t.sent or t.landed or t.errors or t.refused]


def _tally(kind: str, writes: list[dict], key, rows: Counter) -> WriteTally:
    """Compare the writes of `kind` (identified by key(write)) with the rows found per key."""
    mine = [w for w in writes if w["kind"] == kind]
    saved = Counter(key(w) for w in mine if w["outcome"] == OK)
    tally = WriteTally(kind, sent=sum(saved.values()))
    tally.refused = sum(w["outcome"] == CONFLICT for w in mine)
    tally.errors = sum(w["outcome"] == ERROR for w in mine)
    for identity, found in rows.items():
        expected = saved.get(identity, 0)
        tally.landed += min(found, expected)
        tally.doubled += max(0, found - expected) if expected else 0
        tally.ghosts += found if not expected else 0
    tally.lost = sum(max(0, n - rows.get(identity, 0)) for identity, n in saved.items())
    return tally


def _tally_marked(kind: str, writes: list[dict], run: str) -> WriteTally:
    model, field = MARKED[kind]
    pattern = marker_pattern(run)
    texts = model._default_manager.filter(**{f"{field}__contains": run}).values_list(
        field, flat=True
    )
    rows = Counter(m for text in texts for m in pattern.findall(text))
    return _tally(kind, writes, lambda w: w["marker"], rows)


def _tally_moves(writes: list[dict], since: datetime) -> WriteTally:
    """A move is known by its deal and target stage: rows per (deal, stage) since the start."""
    deals = {w["deal"] for w in writes if w["kind"] == DEAL_MOVE}
    changes = DealStageChange.objects.filter(changed_at__gte=since, deal_id__in=deals)
    rows = Counter(changes.values_list("deal_id", "to_stage_id"))
    return _tally(DEAL_MOVE, writes, lambda w: (w["deal"], w["stage"]), rows)


def reply_emails(run: str) -> tuple[int, int, int]:
    """The outbox's emails for this run's replies: (messages, sent, doubled) where doubled
    counts messages beyond one per reply."""
    texts = OutboxMessage.objects.filter(text__contains=run).values_list("text", "status")
    pattern = marker_pattern(run)
    per_reply = Counter(m for text, _status in texts for m in set(pattern.findall(text)))
    sent = sum(status == OutboxMessage.Status.SENT for _text, status in texts)
    return len(texts), sent, sum(n - 1 for n in per_reply.values() if n > 1)


def pending_reply_emails(run: str) -> int:
    done = (OutboxMessage.Status.SENT, OutboxMessage.Status.FAILED)
    return OutboxMessage.objects.filter(text__contains=run).exclude(status__in=done).count()


@dataclass
class PageStats:
    method: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float


def read_stats(path: Path) -> tuple[list[PageStats], list[str]]:
    """The locustfile's statistics: one row per page, then "Aggregated" (method ""); and the
    exceptions the users' code raised."""
    if not path.exists():
        return [], [f"{path.name} was not written (see locust.log)"]
    data = json.loads(path.read_text(encoding="utf-8"))
    return [PageStats(**row) for row in data["pages"]], data["exceptions"]


def read_access_log(access_log: Path) -> tuple[Counter, dict[str, list[float]]]:
    """From gunicorn's access log (the project's format): the 5xx answers by status, and per
    page the milliseconds each locust request spent inside a worker (the POST and the GET of
    its redirect together), by the X-Request-ID the locustfile sends."""
    if not access_log.exists():
        return Counter(), {}
    five_xx: Counter = Counter()
    per_request: Counter = Counter()
    for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
        if status := re.search(r'" (5\d\d) ', line):
            five_xx[status[1]] += 1
        labelled = re.search(r" (\d+)ms .*request_id=load:(.+):(\d+)$", line)
        if labelled:
            per_request[(labelled[2], labelled[3])] += int(labelled[1])
    server_ms: dict[str, list[float]] = {}
    for (name, _n), ms in per_request.items():
        server_ms.setdefault(name, []).append(ms)
    return five_xx, server_ms


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank, as devtools.bench.PageResult does."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def stats_lines(
    stats: list[PageStats], floor: list[PageStats], server_ms: dict[str, list[float]]
) -> list[str]:
    """The table per page, "all pages", then the floor: /healthz on the same server. The
    server columns are the time inside a gunicorn worker; the rest is the wait for one."""
    header = (
        f"{'page':<30} {'requests':>8} {'failed':>6} {'req/s':>6} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'server p50':>10} {'p95':>6}"
    )
    pages = [s for s in stats if s.method]
    everything = [ms for s in pages for ms in server_ms.get(s.name, [])]
    rows = [(f"{s.method} {s.name}", s, server_ms.get(s.name, [])) for s in pages]
    rows += [("all pages", s, everything) for s in stats if not s.method]
    rows += [
        ("FLOOR GET /healthz", s, server_ms.get("floor /healthz", []))
        for s in floor
        if not s.method
    ]
    lines = [header, "-" * len(header)]
    for name, s, server in rows:
        p50, p95 = (percentile(server, 0.5), percentile(server, 0.95)) if server else (0, 0)
        lines.append(
            f"{name[:30]:<30} {s.requests:>8} {s.failures:>6} {s.rps:>6.1f} {s.p50:>7.0f} "
            f"{s.p95:>7.0f} {s.p99:>7.0f} {s.max:>7.0f} {p50:>10.0f} {p95:>6.0f}"
        )
    return lines


def write_lines(tallies: list[WriteTally]) -> list[str]:
    header = (
        f"{'write':<14} {'sent':>6} {'landed':>7} {'doubled':>8} {'lost':>5} "
        f"{'refused':>8} {'errors':>7}"
    )
    lines = [header, "-" * len(header)]
    for t in tallies:
        lines.append(
            f"{t.kind:<14} {t.sent:>6} {t.landed:>7} {t.doubled + t.ghosts:>8} {t.lost:>5} "
            f"{t.refused:>8} {t.errors:>7}"
        )
    sent, landed = sum(t.sent for t in tallies), sum(t.landed for t in tallies)
    doubled = sum(t.doubled + t.ghosts for t in tallies)
    lost = sum(t.lost for t in tallies)
    lines.append(f"writes: {sent} sent, {landed} landed, {doubled} doubled, {lost} lost")
    return lines
