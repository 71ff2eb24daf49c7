"""Who may see and add the files of tickets and of their messages (core.attachments): the
rules of the ticket page (service.selectors), so a marketer (no tickets) or a rep on another
rep's customer's ticket gets 404. An internal note's files follow the notes: only users who
see notes on the ticket page see them, and the customer's signed page never lists them."""

from typing import Any

from core.attachments import register_attachment_owner
from service.models import Ticket, TicketMessage
from service.selectors import can_work_ticket


def may_see_ticket(user: Any, ticket: Ticket) -> bool:
    """tickets_visible_to()'s rule on a ticket already read."""
    if not user.is_authenticated:
        return False
    if user.has_perm("service.view_any_ticket"):
        return True
    return (
        user.has_perm("service.view_ticket")
        and ticket.customer_id is not None
        and ticket.customer.owner_id == user.pk  # type: ignore[union-attr]
    )


def may_see_internal_notes(user: Any, ticket: Ticket) -> bool:
    """The ticket page shows its internal notes to every user who may open it."""
    return may_see_ticket(user, ticket)


def may_see_message_files(user: Any, message: TicketMessage) -> bool:
    if message.kind == TicketMessage.Kind.NOTE:
        return may_see_internal_notes(user, message.ticket)
    return may_see_ticket(user, message.ticket)


def _may_add_message_files(user: Any, message: TicketMessage) -> bool:
    return can_work_ticket(user, message.ticket)


def _message_page(message: Any) -> str:
    return f"{message.ticket.get_absolute_url()}#message-{message.pk}"


def register_service_attachments() -> None:
    register_attachment_owner(Ticket, can_view=may_see_ticket, can_add=can_work_ticket)  # type: ignore[arg-type]
    register_attachment_owner(
        TicketMessage,
        can_view=may_see_message_files,  # type: ignore[arg-type]
        can_add=_may_add_message_files,  # type: ignore[arg-type]
        page_url=_message_page,
    )
