"""Writes: every change to tickets, their conversation and their ratings goes through here.

Emails are written to the outbox in the change's own transaction (service.emails), so a
rolled-back change emails nobody and a committed one is delivered, with retries.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from types import EllipsisType

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.attachments import attachment_add
from core.events import event_record
from crm.lib.concurrency import NOT_A_USER_EDIT, ExpectedVersion, lock_for_update, save_new_version
from customers.models import Contact, Customer
from customers.services import customer_create
from service import emails, sla
from service.models import (
    Holiday,
    Priority,
    SatisfactionResponse,
    SLAPolicy,
    Team,
    Ticket,
    TicketMessage,
)
from service.notices import customer_reply_notify, note_mentions_notify

DEFAULT_TEAM = "Support"


def holidays() -> list[date]:
    return list(Holiday.objects.values_list("date", flat=True))


def apply_due_times(
    ticket: Ticket, *, policy: SLAPolicy | None, holiday_dates: Iterable[date] = ()
) -> None:
    """Set the ticket's due times from its priority's policy (in memory; the caller saves).

    A first response already given keeps the due time it was measured against.
    """
    if policy is None:
        if ticket.first_responded_at is None:
            ticket.first_response_due = ticket.first_response_at_risk_at = None
        ticket.resolution_due = ticket.resolution_at_risk_at = None
        return
    due = sla.due_times(
        policy, ticket.created_at, ticket.sla_paused_minutes, holidays=holiday_dates
    )
    if ticket.first_responded_at is None:
        ticket.first_response_due = due.first_response_due
        ticket.first_response_at_risk_at = due.first_response_at_risk_at
    ticket.resolution_due = due.resolution_due
    ticket.resolution_at_risk_at = due.resolution_at_risk_at


def _policy(priority: str) -> SLAPolicy | None:
    return SLAPolicy.objects.filter(priority=priority).first()


def _recompute_due_times(ticket: Ticket) -> None:
    apply_due_times(ticket, policy=_policy(ticket.priority), holiday_dates=holidays())


def _resume_clock(ticket: Ticket, now: datetime) -> None:
    """Leaving "waiting on customer": the due times move by the business time paused."""
    if ticket.sla_paused_at is None:
        return
    policy = _policy(ticket.priority)
    dates = holidays()
    if policy is not None:
        calendar = sla.calendar_for(policy, dates)
        ticket.sla_paused_minutes += sla.business_minutes_between(
            ticket.sla_paused_at, now, calendar=calendar
        )
    ticket.sla_paused_at = None
    apply_due_times(ticket, policy=policy, holiday_dates=dates)


@transaction.atomic
def ticket_create(
    *,
    customer: Customer | None,
    subject: str,
    description: str,
    channel: str,
    category: str = Ticket.Category.QUESTION,
    priority: str = Priority.NORMAL,
    contact: Contact | None = None,
    assignee: User | None = None,
    team: Team | None = None,
    tags: Iterable = (),
    created_by: User | None = None,
    now: datetime | None = None,
    requester_name: str = "",
    requester_email: str = "",
    sender_unverified: bool = False,
    reply_address: str = "",
    language: str = "",
) -> Ticket:
    """Open a ticket with its SLA due times. created_by None: the customer submitted it.

    customer None: a requester's ticket (requester_email required), see ticket_submit_public.
    """
    if contact is not None and (customer is None or contact.customer_id != customer.pk):
        raise ValidationError({"contact": _("This contact belongs to another customer.")})
    if customer is None and not requester_email:
        raise ValidationError(_("A ticket needs a customer or a requester's email."))
    if team is None:
        team = Team.objects.filter(name=DEFAULT_TEAM).first()
    ticket = Ticket(
        customer=customer,
        contact=contact,
        requester_name=requester_name,
        requester_email=requester_email,
        sender_unverified=sender_unverified,
        reply_address=reply_address,
        language=language,
        subject=subject,
        description=description,
        channel=channel,
        category=category,
        priority=priority,
        assignee=assignee,
        team=team,
        created_at=now or timezone.now(),
    )
    ticket.full_clean()
    _recompute_due_times(ticket)
    ticket.save()
    ticket.tags.set(tags)
    event_record(type="ticket.created", target=ticket, data=_ticket_keys(ticket))
    return ticket


def _ticket_keys(ticket: Ticket) -> dict:
    """What an event says of a ticket: codes and ids (no subject or text)."""
    return {
        "customer_id": ticket.customer_id,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "channel": ticket.channel,
        "assignee_id": ticket.assignee_id,
    }


def match_customer_by_email(email: str) -> tuple[Customer | None, Contact | None]:
    """The oldest customer with this email, else a contact's customer, else nobody."""
    customer = Customer.objects.filter(email__iexact=email).order_by("created_at", "pk").first()
    if customer is not None:
        return customer, None
    contact = (
        Contact.objects.select_related("customer")
        .filter(email__iexact=email)
        .order_by("pk")
        .first()
    )
    if contact is not None:
        return contact.customer, contact
    return None, None


@transaction.atomic
def ticket_submit_public(
    *,
    email: str,
    name: str,
    subject: str,
    description: str,
    category: str,
    files: Sequence[tuple[str, File]] = (),
    language: str = "",
) -> Ticket:
    """A ticket from the self-service form; the sender gets the signed follow link.

    Anyone may type any address into a public form (issue 13). So the ticket is marked
    "sender not verified" until the link emailed to that address is followed and
    confirmed (ticket_sender_verify); agents see the mark. A known address files the
    ticket on its customer; an unknown one makes the sender a requester (name and email
    on the ticket, no customer created) until an agent links the ticket to a customer or
    creates one from the requester.
    """
    email, name = email.strip(), name.strip()
    customer, contact = match_customer_by_email(email)
    ticket = ticket_create(
        customer=customer,
        contact=contact,
        requester_name=name,
        requester_email=email,
        sender_unverified=True,
        subject=subject,
        description=description,
        channel=Ticket.Channel.WEB,
        category=category,
        language=language,
    )
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.REPLY,
        from_customer=True,
        body=description,
        created_at=ticket.created_at,
    )
    for file_name, content in files:  # (name, file): the form checked them
        attachment_add(owner=message, content=content, name=file_name)
    emails.send_ticket_acknowledgement(ticket)
    return ticket


@transaction.atomic
def ticket_sender_verify(*, ticket: Ticket, now: datetime | None = None) -> Ticket:
    """The sender followed the emailed link and confirmed: the address is theirs."""
    locked = _locked(ticket, NOT_A_USER_EDIT)  # not a form's fields: no conflict to report
    if locked.sender_unverified:
        locked.sender_unverified = False
        locked.sender_verified_at = now or timezone.now()
        locked.save(update_fields=["sender_unverified", "sender_verified_at", "updated_at"])
    return locked


@transaction.atomic
def ticket_link_customer(*, ticket: Ticket, customer: Customer, user: User) -> Ticket:
    """An agent decided whose request a requester's ticket is. The requester's name and
    email stay on the ticket as what the sender typed."""
    locked = _locked(ticket, NOT_A_USER_EDIT)
    if locked.customer_id is not None:
        raise ValidationError(_("This ticket already belongs to a customer."))
    locked.customer = customer
    save_new_version(locked)
    return locked


@transaction.atomic
def ticket_customer_from_requester(*, ticket: Ticket, user: User) -> Customer:
    """An agent decided the requester is a new customer: a lead from the website."""
    locked = _locked(ticket, NOT_A_USER_EDIT)
    if locked.customer_id is not None:
        raise ValidationError(_("This ticket already belongs to a customer."))
    customer = customer_create(
        data={
            "name": locked.requester_name or locked.requester_email,
            "email": locked.requester_email,
            "kind": Customer.Kind.PERSON,
            "stage": Customer.Stage.LEAD,
            "source": Customer.Source.WEBSITE,
        }
    )
    locked.customer = customer
    save_new_version(locked)
    return customer


def _locked(ticket: Ticket, expected_version: ExpectedVersion) -> Ticket:
    return lock_for_update(
        ticket,
        expected_version=expected_version,
        conflict_message=_(
            "Someone else saved this ticket while you were editing. Your changes were not saved."
        ),
    )


@transaction.atomic
def ticket_reply(
    *, ticket: Ticket, author: User, body: str, internal: bool, now: datetime | None = None
) -> TicketMessage:
    """An agent's public reply (emailed) or internal note (never shown to the customer)."""
    now = now or timezone.now()
    locked = _locked(ticket, NOT_A_USER_EDIT)  # a message is added, the form's fields untouched
    if not internal and locked.status == Ticket.Status.CLOSED:
        raise ValidationError(_("This ticket is closed: add an internal note instead."))
    message = TicketMessage(
        ticket=locked,
        kind=TicketMessage.Kind.NOTE if internal else TicketMessage.Kind.REPLY,
        author=author,
        body=body,
        created_at=now,
    )
    message.full_clean()
    message.save()
    if internal:
        note_mentions_notify(message=message, author=author)
    else:
        changed = []
        if locked.first_responded_at is None:
            locked.first_responded_at = now
            changed.append("first_responded_at")
        if locked.status == Ticket.Status.NEW:
            locked.status = Ticket.Status.OPEN
            locked.version += 1
            changed += ["status", "version"]
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        emails.send_reply(message)
    return message


@transaction.atomic
def ticket_customer_reply(
    *,
    ticket: Ticket,
    body: str,
    now: datetime | None = None,
    via_email: bool = False,
    email_message_id: str = "",
    proves_sender: bool = True,
) -> TicketMessage:
    """The customer's reply from the self-service page or by email (via_email; proves_sender
    False when nothing shows the sender received our email): it puts the ticket back to work."""
    now = now or timezone.now()
    locked = _locked(ticket, NOT_A_USER_EDIT)  # a message is added, the form's fields untouched
    if locked.status == Ticket.Status.CLOSED:
        raise ValidationError(
            _("This request is closed and cannot take replies. Please submit a new request.")
        )
    message = TicketMessage(
        ticket=locked,
        kind=TicketMessage.Kind.REPLY,
        from_customer=True,
        body=body,
        created_at=now,
        via_email=via_email,
        email_message_id=email_message_id,
    )
    message.full_clean()
    message.save()
    if locked.sender_unverified and proves_sender:  # the emailed link proves the address too
        locked.sender_unverified, locked.sender_verified_at = False, now
        locked.save(update_fields=["sender_unverified", "sender_verified_at", "updated_at"])
    if locked.status in (Ticket.Status.WAITING, Ticket.Status.RESOLVED):
        _resume_clock(locked, now)
        locked.status = Ticket.Status.OPEN
        locked.resolved_at = None
        locked.version += 1
        locked.save()
    event_record(type="ticket.customer_replied", target=locked, data=_message_keys(message))
    customer_reply_notify(message=message)
    return message


def _message_keys(message: TicketMessage) -> dict:
    return {"message_id": message.pk, **_ticket_keys(message.ticket)}


def _change_status(ticket: Ticket, status: str, now: datetime) -> bool:
    """Move the locked ticket to `status` (in memory); True when it was newly resolved."""
    old = ticket.status
    if status == old:
        return False
    if status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        _require_root_cause(ticket)
    if old == Ticket.Status.WAITING:
        _resume_clock(ticket, now)
    ticket.status = status
    if status == Ticket.Status.WAITING:
        ticket.sla_paused_at = now
    if status == Ticket.Status.RESOLVED:
        ticket.resolved_at, ticket.closed_at = now, None
    elif status == Ticket.Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = ticket.closed_at = None
    return status == Ticket.Status.RESOLVED


def _require_root_cause(ticket: Ticket) -> None:
    if ticket.category == Ticket.Category.COMPLAINT and not ticket.root_cause:
        raise ValidationError(
            {"root_cause": _("Record the root cause of the complaint before resolving it.")}
        )


def _after_resolution(ticket: Ticket) -> None:
    """Ask for a rating once per resolution, unless the customer already rated."""
    event_record(type="ticket.resolved", target=ticket, data=_ticket_keys(ticket))
    if not SatisfactionResponse.objects.filter(ticket=ticket).exists():
        emails.send_csat_request(ticket)


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    user: User,
    expected_version: ExpectedVersion,
    status: str | None = None,
    priority: str | None = None,
    assignee: User | None | EllipsisType = ...,
    team: Team | None | EllipsisType = ...,
    category: str | None = None,
    root_cause: str | None = None,
    tags: Iterable | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Change a ticket unless someone saved it since `expected_version` was read.

    assignee=None / team=None unassign; leave them out to keep the current ones.
    """
    now = now or timezone.now()
    locked = _locked(ticket, expected_version)
    if category is not None:
        locked.category = category
    if root_cause is not None:
        locked.root_cause = root_cause
    if assignee is not ...:
        locked.assignee = assignee
    if team is not ...:
        locked.team = team
    newly_resolved = False
    if status is not None:
        newly_resolved = _change_status(locked, status, now)
    if priority is not None and priority != locked.priority:
        locked.priority = priority
        _recompute_due_times(locked)  # a running pause is added when the clock resumes
    save_new_version(locked)
    if tags is not None:
        locked.tags.set(tags)
    if newly_resolved:
        _after_resolution(locked)
    return locked


@transaction.atomic
def tickets_bulk_assign(*, user: User, tickets: QuerySet[Ticket], assignee: User | None) -> int:
    """Assign (or unassign with None) every ticket of the queryset in one UPDATE."""
    return Ticket.objects.filter(pk__in=tickets.values("pk")).update(
        assignee=assignee, version=F("version") + 1, updated_at=timezone.now()
    )


@transaction.atomic
def tickets_bulk_set_status(
    *, user: User, tickets: QuerySet[Ticket], status: str, now: datetime | None = None
) -> tuple[int, list[Ticket]]:
    """Set the status of each ticket; returns the count and the tickets skipped, each with
    a `skip_reason` (a complaint without a root cause cannot be resolved in bulk)."""
    if status not in Ticket.Status.values:
        raise ValidationError({"status": _("Choose a valid status.")})
    now = now or timezone.now()
    updated, skipped = 0, []
    locked_tickets = Ticket.objects.select_for_update().filter(pk__in=tickets.values("pk"))
    for ticket in locked_tickets.order_by("pk"):
        try:
            newly_resolved = _change_status(ticket, status, now)
        except ValidationError as error:
            ticket.skip_reason = " ".join(error.messages)
            skipped.append(ticket)
            continue
        ticket.version += 1
        ticket.save()
        updated += 1
        if newly_resolved:
            _after_resolution(ticket)
    return updated, skipped


@transaction.atomic
def satisfaction_record(*, ticket: Ticket, score: int, comment: str) -> SatisfactionResponse:
    """The customer's 1-5 rating of a resolved or closed ticket, once per ticket."""
    already = _("This request has already been rated. Thank you!")
    if ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        raise ValidationError(_("Only a resolved request can be rated."))
    if SatisfactionResponse.objects.filter(ticket=ticket).exists():
        raise ValidationError(already)
    response = SatisfactionResponse(ticket=ticket, score=score, comment=comment)
    response.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError as error:  # a concurrent rating won the race
        raise ValidationError(already) from error
    event_record(type="csat.received", target=ticket, data={"score": score, **_ticket_keys(ticket)})
    return response
