"""Writes of an agent's day besides replying: taking a ticket and merging two tickets.

Kept apart from service.services (the email work changes that module) and written the same
way: keyword-only, one transaction, the rows locked before they change.
"""

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import AuditEvent
from crm.lib.concurrency import NOT_A_USER_EDIT, ExpectedVersion, lock_for_update, save_new_version
from service.models import Ticket, TicketMessage


def may_merge(user: User, ticket: Ticket) -> bool:
    """Managers merge any ticket; an agent the tickets of their queue (their team's, their own,
    or of no team)."""
    if not user.has_perm("service.work_ticket"):
        return False
    if user.has_perm("service.delete_ticket"):  # managers (crm.roles)
        return True
    if ticket.assignee_id == user.pk or ticket.team_id is None:
        return True
    return ticket.team is not None and ticket.team.members.filter(pk=user.pk).exists()


@transaction.atomic
def ticket_take(*, ticket: Ticket, user: User, expected_version: ExpectedVersion = None) -> Ticket:
    """Assign the ticket to `user` ("Take it").

    From the ticket page the version the agent saw is compared; from the queue (no version)
    the take is refused only when a colleague took the ticket in the meantime.
    """
    if not may_merge(user, ticket):  # the same queue rule: their team's, their own, no team's
        raise ValidationError(_("This ticket is not in your queue."))
    if ticket.status == Ticket.Status.CLOSED or ticket.merged_into_id is not None:
        raise ValidationError(_("A closed or merged ticket cannot be taken."))
    if expected_version is None:
        locked = lock_for_update(ticket, expected_version=NOT_A_USER_EDIT, conflict_message="")
        if locked.assignee_id not in (None, user.pk):
            name = locked.assignee.get_username() if locked.assignee else ""
            raise ValidationError(
                _("%(number)s was taken by %(name)s a moment ago.")
                % {"number": locked.number, "name": name}
            )
    else:
        locked = lock_for_update(
            ticket,
            expected_version=expected_version,
            conflict_message=_("Someone else saved this ticket while you were looking at it."),
        )
    if locked.assignee_id != user.pk:
        locked.assignee = user
        save_new_version(locked)
    return locked


def _merge_refusal(source: Ticket, target: Ticket) -> str:
    if source.pk == target.pk:
        return _("A ticket cannot be merged into itself.")
    if source.merged_into_id or target.merged_into_id:
        return _("A ticket that was merged already cannot be merged again.")
    if source.customer_id != target.customer_id or (
        source.customer_id is None
        and source.requester_email.casefold() != target.requester_email.casefold()
    ):
        return _("Only tickets of the same customer can be merged.")
    return ""


@transaction.atomic
def ticket_merge(
    *, source: Ticket, target: Ticket, user: User, now: datetime | None = None
) -> Ticket:
    """Merge `source` (B) into `target` (A): B's request and messages join A's conversation,
    B's tags are added to A, B is closed as merged with a link to A. Audited."""
    now = now or timezone.now()
    first, second = sorted([source, target], key=lambda ticket: ticket.pk)  # no deadlock
    locked = {
        t.pk: lock_for_update(t, expected_version=NOT_A_USER_EDIT, conflict_message="")
        for t in (first, second)
    }
    source, target = locked[source.pk], locked[target.pk]
    refusal = _merge_refusal(source, target)
    if refusal:
        raise ValidationError(refusal)
    TicketMessage.objects.filter(ticket=source).update(ticket=target)
    TicketMessage.objects.create(
        ticket=target,
        from_customer=True,
        body=source.description,
        created_at=source.created_at,
    )
    note = _("Merged %(source)s (%(subject)s) into this ticket.") % {
        "source": source.number,
        "subject": source.subject,
    }
    TicketMessage.objects.create(
        ticket=target, kind=TicketMessage.Kind.NOTE, author=user, body=note, created_at=now
    )
    target.tags.add(*source.tags.all())
    save_new_version(target)
    source.merged_into = target
    source.status = Ticket.Status.CLOSED
    source.closed_at = now
    save_new_version(source)
    TicketMessage.objects.create(
        ticket=source,
        kind=TicketMessage.Kind.NOTE,
        author=user,
        body=_("Merged into %(target)s.") % {"target": target.number},
        created_at=now,
    )
    audit_record(
        AuditEvent.Action.MERGE,
        actor=user,
        target=target,
        detail={"merged": source.number, "into": target.number},
    )
    return target
