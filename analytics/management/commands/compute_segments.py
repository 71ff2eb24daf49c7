"""Run the segment computation now, in this process, and print its summary.

The same chunked path as the nightly Celery task (its tasks run inline here).
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.models import Segment, SegmentRun, SegmentSummary
from analytics.services import RunAlreadyActive, run_compute_now

STEPS = ("aggregate", "read", "fit", "score", "write", "recommend", "finish", "total")


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Compute RFM segments and lifetime values for every customer with orders, as of a "
        "date (today by default), and make the result current."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="YYYY-MM-DD; orders after this day are ignored.")

    def handle(self, *args, as_of=None, **options):
        day = _as_of(as_of) if as_of else None
        if day and day > timezone.localdate() + timedelta(days=366):
            raise CommandError("--as-of is more than a year in the future.")
        try:
            run = run_compute_now(as_of=day)
        except RunAlreadyActive as refused:
            raise CommandError(str(refused)) from None
        if run.status != SegmentRun.Status.SUCCEEDED:
            raise CommandError(run.error or f"The run ended {run.status}.")
        self._summary(run)

    def _summary(self, run: SegmentRun) -> None:
        out = self.stdout.write
        out(f"Segment run {run.pk} as of {run.as_of:%Y-%m-%d}: {run.customers} customers")
        counts = dict(SegmentSummary.objects.filter(run=run).values_list("segment", "customers"))
        for segment in Segment:
            out(f"  {segment.label:<20} {counts.get(segment.value, 0):>10}")
        timings = "  ".join(f"{k}={run.timings[k]:.2f}s" for k in STEPS if k in run.timings)
        out(f"Timings: {timings}")
        p = run.parameters
        if not p:
            out("No model fitted: no customer has orders.")
            return
        out(
            f"BG/NBD: r={p['r']:.4f} alpha={p['alpha']:.4f} a={p['a']:.4f} b={p['b']:.4f} "
            f"(alpha in {p['time_unit']})"
        )
        out(f"Gamma-Gamma: p={p['p']:.4f} q={p['q']:.4f} gamma={p['gamma']:.4f}")
        out(f"Discount rate: {p['discount_rate']:.2%} a year")
