"""What the sales app tells people (core.notifications): a deal assigned to you by someone
else, and a deal of yours won or lost by someone else."""

from django.contrib.auth.models import User
from django.utils.translation import gettext_noop

from core.notifications import notify
from sales.models import Deal


def deal_assigned_notify(*, deal: Deal, by: User) -> None:
    notify(
        recipient=deal.owner,
        kind="assigned",
        message=gettext_noop("%(user)s assigned you the deal %(title)s"),
        params={"user": by.get_username(), "title": deal.title},
        url=deal.get_absolute_url(),
        actor=by,
    )


def deal_closed_notify(*, deal: Deal, by: User) -> None:
    if deal.status == Deal.Status.WON:
        message = gettext_noop("%(user)s won your deal %(title)s")
    else:
        message = gettext_noop("%(user)s lost your deal %(title)s")
    notify(
        recipient=deal.owner,
        kind="deal_closed",
        message=message,
        params={"user": by.get_username(), "title": deal.title},
        url=deal.get_absolute_url(),
        actor=by,
    )
