"""Sending a campaign at a chosen time: the marketer schedules it, the beat sends it.

`campaign_schedule` checks now what sending would check (the status, the message) and
stores the moment in `Campaign.send_at` with the status "scheduled"; nothing is frozen
yet, so the audience is the one of the moment of sending. Back to draft (the edit form)
forgets the moment.

`send_due_campaigns` runs on the beat (marketing.tasks.send_scheduled, every
CRM_SWEEP_SECONDS). Each due campaign is CLAIMED before it is sent: its row is locked
with SELECT ... FOR UPDATE SKIP LOCKED and its status and moment are re-checked under the
lock, then `campaign_send` moves it to "running" in the same transaction. A second beat
or worker running at the same time skips the locked row, and once the first commits the
row is no longer "scheduled": a campaign is never sent twice. A campaign that can no
longer be sent (its message was emptied meanwhile) goes back to draft with the reason
logged, instead of failing every minute.

Customers have no time zone in this CRM, so every recipient gets the message at the same
instant; sending in each recipient's time zone needs that field first.
"""

import logging
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketing.models import Campaign
from marketing.services.sending import campaign_send, check_sendable

logger = logging.getLogger(__name__)


@transaction.atomic
def campaign_schedule(
    *, campaign: Campaign, by: User, send_at: datetime, rate: int | None = None
) -> Campaign:
    """Have the beat send `campaign` at `send_at` (a future instant)."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    check_sendable(locked)
    if send_at <= timezone.now():
        raise ValidationError({"send_at": _("Choose a time in the future.")})
    if rate is not None:
        locked.send_rate = rate
    locked.status = Campaign.Status.SCHEDULED
    locked.send_at = send_at
    if locked.starts_on is None:
        locked.starts_on = timezone.localdate(send_at)
    if locked.ends_on is not None and locked.ends_on < locked.starts_on:
        raise ValidationError({"send_at": _("Choose a time before the campaign ends.")})
    locked.version += 1
    locked.full_clean()
    locked.save()
    logger.info("campaign %s scheduled for %s by %s", locked.pk, send_at.isoformat(), by.pk)
    return locked


def due_campaign_ids(now: datetime) -> list[int]:
    due = Campaign.objects.filter(status=Campaign.Status.SCHEDULED, send_at__lte=now)
    return list(due.order_by("send_at", "pk").values_list("pk", flat=True))


def send_due_campaigns(*, now: datetime | None = None) -> dict[str, int]:
    """Send every scheduled campaign whose moment has come; each one claimed (see module)."""
    now = now or timezone.now()
    result = {"sent": 0, "refused": 0, "skipped": 0}
    for campaign_id in due_campaign_ids(now):
        result[_send_one_due(campaign_id, now)] += 1
    return result


def _send_one_due(campaign_id: int, now: datetime) -> str:
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(skip_locked=True)
            .filter(pk=campaign_id, status=Campaign.Status.SCHEDULED, send_at__lte=now)
            .select_related("owner")
            .first()
        )
        if campaign is None:
            return "skipped"  # another worker holds or sent it
        try:
            with transaction.atomic():
                campaign_send(campaign=campaign, by=campaign.owner)
        except ValidationError as error:
            logger.warning("scheduled campaign %s not sent: %s", campaign_id, error.messages)
            Campaign.objects.filter(pk=campaign_id).update(
                status=Campaign.Status.DRAFT, send_at=None
            )
            return "refused"
    return "sent"
