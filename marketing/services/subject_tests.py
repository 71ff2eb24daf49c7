"""Subject-line A/B tests of email campaigns.

The marketer sets subject B, the sample share, the winning metric and the wait on a draft
or scheduled campaign (`subject_test_save`). When the campaign is sent (by hand or by the
schedule: both go through sending.campaign_send), `subject_test_split` shuffles the frozen
recipients: the first half of the sample gets subject A, the second subject B, and the
rest is `held` (not queued, so no worker claims it; the campaign stays running).

The beat (marketing.tasks.decide_subject_tests, every CRM_SWEEP_SECONDS) calls
`decide_due_subject_tests`. Each due test is decided in ONE transaction holding its row
lock (SELECT ... FOR UPDATE SKIP LOCKED): the rates are counted, the winner stored and the
held recipients queued with the winner's letter, then the delivery task is queued on
commit. Running it twice decides nothing the second time (the winner is already set and
nobody is held); a worker killed mid-pick rolls the whole transaction back, and the next
beat picks again. Delivery itself claims rows (marketing.services.sending), so the rest
gets the winner exactly once.

The rate is opens (or clicks) per delivered message of each variant. Equal rates, or no
delivered message at all, make A the winner, with the reason stored and shown.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.tasks import queue_on_commit
from marketing.models import Campaign, CampaignChannel, CampaignRecipient, SubjectTest
from marketing.tasks import send_campaign

R = CampaignRecipient.Status
V = SubjectTest.Variant
CHUNK = 5000
DECIDABLE = (Campaign.Status.RUNNING, Campaign.Status.SENT, Campaign.Status.COMPLETED)


# --- the marketer's settings ---------------------------------------------------------------


def _check_editable(campaign: Campaign) -> None:
    if campaign.status not in Campaign.EDITABLE_STATUSES:
        raise ValidationError(_("The subject test can only change before the campaign is sent."))
    if campaign.channel != CampaignChannel.EMAIL:
        raise ValidationError(_("Only email campaigns have a subject line to test."))


@transaction.atomic
def subject_test_save(
    *, campaign: Campaign, subject_b: str, sample_percent: int, metric: str, wait_hours: int
) -> SubjectTest:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _check_editable(locked)
    if subject_b.strip() == locked.subject.strip():
        raise ValidationError({"subject_b": _("Subject B must differ from the subject (A).")})
    test = SubjectTest.objects.filter(campaign=locked).first() or SubjectTest(campaign=locked)
    test.subject_b, test.sample_percent = subject_b, sample_percent
    test.metric, test.wait_hours = metric, wait_hours
    test.full_clean()
    test.save()
    return test


@transaction.atomic
def subject_test_remove(*, campaign: Campaign) -> None:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _check_editable(locked)
    SubjectTest.objects.filter(campaign=locked).delete()


# --- sending: the split -----------------------------------------------------------------


def sample_sizes(total: int, percent: int) -> tuple[int, int]:
    """(recipients of A, recipients of B): `percent` of `total`, rounded, halved (A gets the
    odd one); at least one each when there are two recipients."""
    sample = min(total, max((total * percent + 50) // 100, 2 if total >= 2 else total))
    return (sample + 1) // 2, sample // 2


def subject_test_split(campaign: Campaign) -> dict[str, int]:
    """Give the campaign's new queued recipients their variant (called in campaign_send's
    transaction, right after the audience is frozen). Only an email has a subject: a test
    left on a campaign whose channel changed splits nothing (nobody is held)."""
    if campaign.channel != CampaignChannel.EMAIL:
        return {}
    test = SubjectTest.objects.filter(campaign=campaign, winner="").first()
    if test is None:
        return {}
    new = CampaignRecipient.objects.filter(campaign=campaign, status=R.QUEUED, variant="")
    ids = list(new.values_list("id", flat=True))
    random.SystemRandom().shuffle(ids)
    size_a, size_b = sample_sizes(len(ids), test.sample_percent)
    groups: dict[str, tuple[list[int], dict[str, str]]] = {
        "a": (ids[:size_a], {"variant": V.A}),
        "b": (ids[size_a : size_a + size_b], {"variant": V.B}),
        "held": (ids[size_a + size_b :], {"status": R.HELD}),
    }
    for part, changes in groups.values():
        for start in range(0, len(part), CHUNK):
            CampaignRecipient.objects.filter(pk__in=part[start : start + CHUNK]).update(**changes)
    return {name: len(part) for name, (part, _changes) in groups.items()}


# --- the pick -----------------------------------------------------------------------------


@dataclass
class VariantResult:
    variant: str
    recipients: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0

    def count(self, metric: str) -> int:
        return self.opened if metric == SubjectTest.Metric.OPENS else self.clicked

    def rate(self, metric: str) -> float | None:
        return self.count(metric) / self.delivered if self.delivered else None


def variant_results(campaign: Campaign) -> dict[str, VariantResult]:
    """Per group (the sample's "a" and "b", the rest's "ra" or "rb"): recipients, delivered,
    opened and clicked, in one grouped query."""
    rows = CampaignRecipient.objects.filter(campaign=campaign).exclude(variant="")
    counts = rows.values("variant").annotate(
        recipients=Count("id"),
        delivered=Count("id", filter=Q(status=R.SENT)),
        opened=Count("id", filter=Q(status=R.SENT, first_opened_at__isnull=False)),
        clicked=Count("id", filter=Q(status=R.SENT, first_clicked_at__isnull=False)),
    )
    results: dict[str, VariantResult] = {str(v): VariantResult(variant=str(v)) for v in V}
    for row in counts.order_by():
        variant = str(row["variant"])
        results[variant] = VariantResult(
            variant=variant,
            recipients=row["recipients"],
            delivered=row["delivered"],
            opened=row["opened"],
            clicked=row["clicked"],
        )
    return results


def pick_winner(results: dict[str, VariantResult], metric: str) -> tuple[str, str]:
    """(winner, reason): the better rate; A on a tie or when nothing was delivered."""
    a, b = results[V.A], results[V.B]
    if not a.delivered and not b.delivered:
        return V.A, SubjectTest.Reason.NO_DATA
    # Cross-multiplied, so no float rounding decides a close call.
    score_a, score_b = a.count(metric) * b.delivered, b.count(metric) * a.delivered
    if not a.delivered:
        score_a, score_b = -1, b.count(metric)
    elif not b.delivered:
        score_a, score_b = a.count(metric), -1
    if score_a == score_b:
        return V.A, SubjectTest.Reason.TIE
    return (V.A if score_a > score_b else V.B), SubjectTest.Reason.BETTER


def due_subject_test_ids(now: datetime) -> list[int]:
    tests = SubjectTest.objects.filter(
        winner="", campaign__status__in=DECIDABLE, campaign__send_started_at__isnull=False
    ).values_list("pk", "wait_hours", "campaign__send_started_at")
    return [
        pk
        for pk, hours, started in tests
        if started is not None and started + timedelta(hours=hours) <= now
    ]


def decide_due_subject_tests(*, now: datetime | None = None) -> dict[str, int]:
    """Decide every test whose wait is over (the beat's sweep; see the module)."""
    now = now or timezone.now()
    decided = sum(
        subject_test_decide(test_id=pk, now=now) is not None for pk in due_subject_test_ids(now)
    )
    return {"decided": decided}


@transaction.atomic
def subject_test_decide(*, test_id: int, now: datetime | None = None) -> SubjectTest | None:
    """Pick the winner and queue the held recipients with it; None when another worker holds
    the test, it is decided already, or its wait is not over."""
    now = now or timezone.now()
    test = (
        SubjectTest.objects.select_for_update(skip_locked=True)
        .select_related("campaign")
        .filter(pk=test_id, winner="", campaign__status__in=DECIDABLE)
        .first()
    )
    started = test.campaign.send_started_at if test else None
    if test is None or started is None or started + timedelta(hours=test.wait_hours) > now:
        return None
    test.winner, test.reason = pick_winner(variant_results(test.campaign), test.metric)
    test.decided_at = now
    test.save(update_fields=["winner", "reason", "decided_at"])
    held = CampaignRecipient.objects.filter(campaign_id=test.campaign_id, status=R.HELD)
    if held.update(status=R.QUEUED, variant=f"r{test.winner}", next_attempt_at=None):
        queue_on_commit(send_campaign, test.campaign_id)
    return test


# --- the report ---------------------------------------------------------------------------


def subject_test_summary(campaign: Campaign) -> dict | None:
    """What the campaign page shows of its test: the settings, then per subject (A, B, and
    the rest sent the winner) the recipients, deliveries, opens, clicks and the rates."""
    test = SubjectTest.objects.filter(campaign=campaign).first()
    if test is None:
        return None
    results = variant_results(campaign) if campaign.send_started_at else {}
    subjects: dict[str, str] = {"a": campaign.subject, "b": test.subject_b}
    rows: list[dict[str, Any]] = [
        {"key": key, "subject": subjects[key[-1]], "result": results[key], "label": label}
        for key, label in (
            (V.A, _("Subject A")),
            (V.B, _("Subject B")),
            ("ra", _("Everyone else (A)")),
            ("rb", _("Everyone else (B)")),
        )
        if key in results
    ]
    for row in rows:
        result = row["result"]
        row["open_rate"], row["click_rate"] = result.rate("opens"), result.rate("clicks")
    decide_at = None
    if campaign.send_started_at:
        decide_at = campaign.send_started_at + timedelta(hours=test.wait_hours)
    return {"test": test, "rows": rows, "decide_at": decide_at}
