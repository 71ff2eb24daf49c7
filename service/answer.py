"""One answer from the ticket page: the reply or note, its files, the status the agent chose
("Send and set Resolved") and the actions of the macro they used, in one transaction; the
agent's draft goes with it. Either everything is saved or nothing, and the typed text comes
back on the page (issue 17: a status change from the side form lost the reply)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from crm.lib.concurrency import NOT_A_USER_EDIT
from service.macros import draft_clear
from service.models import Macro, Ticket, TicketMessage
from service.services import ticket_reply, ticket_update


@dataclass(frozen=True)
class Answer:
    body: str  # empty: only the status or the macro's actions change
    internal: bool
    then_status: str = ""  # empty: the status stays (or the macro's, if it sets one)
    macro: Macro | None = None


def _changes(ticket: Ticket, answer: Answer) -> dict:
    """ticket_update's keywords for the chosen status and the macro's actions."""
    macro = answer.macro
    changes: dict = {}
    status = answer.then_status or (macro.set_status if macro else "")
    if status:
        changes["status"] = status
    if macro is not None:
        if macro.set_priority:
            changes["priority"] = macro.set_priority
        if macro.set_assignee_id:
            changes["assignee"] = macro.set_assignee
        macro_tags = list(macro.add_tags.all())
        if macro_tags:
            changes["tags"] = {*ticket.tags.all(), *macro_tags}
    return changes


@transaction.atomic
def ticket_answer(
    *,
    ticket: Ticket,
    author: User,
    answer: Answer,
    attach: Callable[[TicketMessage], None] | None = None,
) -> TicketMessage | None:
    """The message (None when only the status changed); `attach` adds its files."""
    message = None
    if answer.body:
        message = ticket_reply(
            ticket=ticket, author=author, body=answer.body, internal=answer.internal
        )
        if attach is not None:
            attach(message)
    changes = _changes(ticket, answer)
    if changes:
        # The agent chose these now, on what they see: not an edit of an older version.
        ticket_update(ticket=ticket, user=author, expected_version=NOT_A_USER_EDIT, **changes)
    draft_clear(ticket=ticket, author=author)
    return message
