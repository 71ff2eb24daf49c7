"""What the sales app tells people (core.notifications): a deal assigned to you by someone
else, and a deal of yours won or lost by someone else."""

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from core.notifications import notify
from sales.models import Deal


def deal_assigned_notify(*, deal: Deal, by: User) -> None:
    notify(
        recipient=deal.owner,
        kind="assigned",
        text=_("%(user)s assigned you the deal %(title)s")
        % {"user": by.get_username(), "title": deal.title},
        url=deal.get_absolute_url(),
        actor=by,
    )


def deal_closed_notify(*, deal: Deal, by: User) -> None:
    if deal.status == Deal.Status.WON:
        text = _("%(user)s won your deal %(title)s")
    else:
        text = _("%(user)s lost your deal %(title)s")
    notify(
        recipient=deal.owner,
        kind="deal_closed",
        text=text % {"user": by.get_username(), "title": deal.title},
        url=deal.get_absolute_url(),
        actor=by,
    )
