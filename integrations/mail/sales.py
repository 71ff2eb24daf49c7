"""The sales mailbox's handler (integrations.mail.ingest): what a message becomes.

Reps send or BCC their mail to the drop-box, or forward what a customer wrote to them. The
message is logged as an email Interaction on every customer whose address (or a contact's
address) is among its participants, by the rep:

- a rep's own mail (the sender is a user): outgoing, on the customers among its recipients;
- a customer's mail (a reply through the Reply-To of an email sent from the CRM, or a BCC
  of a rep's address): incoming, on the sender's customer, by the rep among the recipients
  (or who wrote the message it answers);
- a forward by a rep: the forwarded original's participants, in the original's direction.

A reply joins its conversation (Interaction.thread) when its In-Reply-To/References name one
of our messages (an interaction's Message-ID or an outbox message's), and is logged on that
conversation's customers too. Mail matching no customer is UNFILED, owned by the rep, for the
unfiled list (integrations.unfiled_services files or discards it).

Anyone can write to the drop-box, so mail from outside (the sender is not a user) is logged
only when one of our users is among its recipients or it answers one of our messages; else
it is UNFILED without an owner (the managers' list): a stranger who puts a customer's address
in Cc must not add interactions and files to that customer.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models.functions import Lower
from django.utils.translation import gettext_noop

from core.attachments import attachment_add
from core.models import OutboxMessage
from core.notifications import notify
from customers.email_log import (
    AddressMatch,
    customers_with_addresses,
    email_threads_of,
    interaction_log_email,
)
from customers.models import Interaction
from integrations.mail.outcome import Outcome
from integrations.mail.parse import ParsedEmail
from integrations.models import InboundEmail, Mailbox


@dataclass
class Reading:
    """Who a drop-box message is from and about."""

    rep: User | None
    direction: str
    participants: list[str]  # addresses, lower case, without our mailboxes'
    thread: str = ""
    thread_customers: list[AddressMatch] = field(default_factory=list)
    # Mail from outside: a user among its recipients, or it answers one of our messages.
    vouched_for: bool = True


def handle(inbound: InboundEmail, parsed: ParsedEmail) -> Outcome:
    reading = read_message(parsed)
    if not reading.vouched_for:
        return Outcome(
            InboundEmail.Status.UNFILED,
            "from outside, to none of our users and answering none of our messages",
        )
    matches = _merge(customers_with_addresses(reading.participants), reading.thread_customers)
    if not matches:
        return Outcome(
            InboundEmail.Status.UNFILED,
            "no customer among the participants",
            owner=reading.rep,
        )
    interactions = log_on_customers(inbound, parsed, reading, matches)
    if reading.direction == Interaction.Direction.INBOUND and reading.rep is not None:
        _tell_rep(reading.rep, parsed, interactions[0])
    return Outcome(
        InboundEmail.Status.PROCESSED,
        f"logged on {len(interactions)} customer(s)",
        result=interactions[0],
        owner=reading.rep,
    )


def read_message(parsed: ParsedEmail) -> Reading:
    ours = _mailbox_addresses()
    sender = parsed.from_address.lower()
    recipients = [a for a in [*parsed.to, *parsed.cc] if a.lower() not in ours]
    users = _users_by_address([sender, *recipients, *_forwarded_addresses(parsed)])
    sender_user = users.get(sender)
    original_sender, original_others = _forwarded(parsed)
    if sender_user is not None and original_sender:
        # A rep forwarded what a customer (or the rep) wrote: the original's participants.
        direction = Interaction.Direction.OUTBOUND
        if original_sender not in users:
            direction = Interaction.Direction.INBOUND
        participants = [original_sender, *original_others]
        rep: User | None = sender_user
    elif sender_user is not None:
        direction, participants, rep = Interaction.Direction.OUTBOUND, recipients, sender_user
    else:
        direction, participants = Interaction.Direction.INBOUND, [sender, *recipients]
        rep = next((users[a.lower()] for a in recipients if a.lower() in users), None)
    reading = Reading(
        rep=rep,
        direction=direction,
        participants=[a.lower() for a in participants if a.lower() not in users],
        vouched_for=sender_user is not None or rep is not None,
    )
    _join_thread(reading, parsed)
    return reading


def _join_thread(reading: Reading, parsed: ParsedEmail) -> None:
    """The conversation a reply belongs to, its customers, and its rep when none is known."""
    named = [m for m in [parsed.in_reply_to, *parsed.references] if m]
    earlier = email_threads_of(named) or _outbox_interactions(named)
    if earlier or _answers_our_outbox(named):
        reading.vouched_for = True
    if not earlier:
        return
    reading.thread = earlier[0].thread
    reading.thread_customers = [AddressMatch(i.customer, i.contact) for i in earlier]
    if reading.rep is None:
        reading.rep = next((i.logged_by for i in earlier if i.logged_by is not None), None)


def _answers_our_outbox(message_ids: list[str]) -> bool:
    """Whether the reply names an email the outbox sent (about anything)."""
    return bool(message_ids) and OutboxMessage.objects.filter(message_id__in=message_ids).exists()


def _outbox_interactions(message_ids: list[str]) -> list[Interaction]:
    """The email interactions that outbox messages named by the reply were about (an email
    the outbox sent threads even if its interaction did not keep the Message-ID)."""
    if not message_ids:
        return []
    rows = OutboxMessage.objects.filter(
        message_id__in=message_ids, about_type=ContentType.objects.get_for_model(Interaction)
    ).values_list("about_id", flat=True)
    pks = [int(pk) for pk in rows if pk.isdigit()]
    return list(
        Interaction.objects.filter(pk__in=pks)
        .exclude(thread="")
        .select_related("customer", "contact", "logged_by")
        .order_by("occurred_at", "pk")
    )


def log_on_customers(
    inbound: InboundEmail, parsed: ParsedEmail, reading: Reading, matches: list[AddressMatch]
) -> list[Interaction]:
    body = parsed.new_text or parsed.text
    note = _oversized_note(parsed)
    interactions = []
    for match in matches:
        interaction = interaction_log_email(
            customer=match.customer,
            logged_by=reading.rep,
            direction=reading.direction,
            subject=parsed.subject,
            body=body,
            message_id=parsed.message_id or inbound.message_key,
            thread=reading.thread,
            contact=match.contact,
            occurred_at=parsed.sent_at or inbound.received_at,
            note=note,
        )
        for file in parsed.attachments:
            attachment_add(
                owner=interaction,
                content=file.data,
                name=file.name,
                uploaded_by=reading.rep,
                content_id=file.content_id,
            )
        interactions.append(interaction)
    return interactions


def _tell_rep(rep: User, parsed: ParsedEmail, interaction: Interaction) -> None:
    """A customer's email reached the rep through the drop-box: a notification, once."""
    notify(
        recipient=rep,
        kind="reply",
        message=gettext_noop("Email from %(sender)s (%(customer)s): %(subject)s"),
        params={
            "sender": parsed.from_address,
            "customer": interaction.customer.name,
            "subject": parsed.subject or "-",
        },
        url=interaction.customer.get_absolute_url(),
        key=f"email-reply:{interaction.pk}",
    )


def _oversized_note(parsed: ParsedEmail) -> str:
    if not parsed.oversized:
        return ""
    return f"(message of {parsed.size} bytes: too large, only its headers were kept)"


def _merge(first: list[AddressMatch], second: list[AddressMatch]) -> list[AddressMatch]:
    found: dict[int, AddressMatch] = {}
    for match in [*first, *second]:
        found.setdefault(match.customer.pk, match)
    return list(found.values())


def _mailbox_addresses() -> set[str]:
    return {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}


def _users_by_address(addresses: Iterable[str]) -> dict[str, User]:
    wanted = {a.lower() for a in addresses if a}
    users = (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=wanted, is_active=True)
        .order_by("-pk")  # the oldest account wins when two share an address
    )
    return {user.email.lower(): user for user in users}


def _forwarded(parsed: ParsedEmail) -> tuple[str, list[str]]:
    """The forwarded original's sender and other participants (ParsedEmail gains these from
    the parser when the message is a forward; absent, the message is not one)."""
    sender = _address_of(getattr(parsed, "forwarded_from", "") or "")
    others = [_address_of(p) for p in getattr(parsed, "forwarded_participants", None) or []]
    return sender, [a for a in others if a and a != sender]


def _forwarded_addresses(parsed: ParsedEmail) -> list[str]:
    sender, others = _forwarded(parsed)
    return [a for a in [sender, *others] if a]


def _address_of(value: object) -> str:
    """An address from "a@b", ("Name", "a@b") or an object with an `address`."""
    if isinstance(value, tuple | list):
        value = value[-1] if value else ""
    value = getattr(value, "address", value)
    text = str(value or "").strip().lower()
    if "<" in text and text.endswith(">"):
        text = text.rsplit("<", 1)[1][:-1]
    return text if "@" in text else ""
