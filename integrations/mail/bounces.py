"""The bounces mailbox's handler (integrations.mail.ingest): what a message becomes.

A delivery-status notification (integrations.mail.dsn) marks each failed recipient's
campaign recipient bounced, found by the original message's Message-ID (a campaign
email's own, or an outbox message about a recipient), else by the address on the most
recent campaign sent to it; a hard bounce (5.x.x) makes the address undeliverable for
future audiences, a soft one (4.x.x) is only recorded (marketing.services.feedback).
Anything else in this mailbox is IGNORED with the reason.

The "parse" branch may add `bounced_addresses` and `bounced_message_id` to ParsedEmail;
this handler reads the report itself (it needs each recipient's status) and uses those
fields only when its own reading finds nothing.
"""

from integrations.mail.dsn import DeliveryReport, RecipientStatus, read_delivery_report
from integrations.mail.outcome import Outcome
from integrations.mail.parse import ParsedEmail
from integrations.models import InboundEmail
from marketing.services.feedback import recipient_bounce_record

S = InboundEmail.Status


def handle(inbound: InboundEmail, parsed: ParsedEmail) -> Outcome:
    report = _report(inbound, parsed)
    if report is None:
        return Outcome(S.IGNORED, "not a delivery status notification")
    bounces = report.bounces
    if not bounces:
        return Outcome(S.IGNORED, "delivery report without a failed recipient (a delay warning)")
    notes, first = [], None
    for bounce in bounces:
        result = recipient_bounce_record(
            address=bounce.address,
            hard=bounce.is_hard,
            detail=bounce.detail,
            message_id=report.original_message_id,
        )
        first = first or result.recipient
        notes.append(_note(bounce, result.recipient, result.suppressed))
    matched = first is not None or any("suppressed" in note for note in notes)
    return Outcome(S.PROCESSED if matched else S.IGNORED, "; ".join(notes), result=first)


def _report(inbound: InboundEmail, parsed: ParsedEmail) -> DeliveryReport | None:
    with inbound.raw.open("rb") as stream:
        report = read_delivery_report(stream.read())
    if report is not None and report.recipients:
        if not report.original_message_id:
            report.original_message_id = getattr(parsed, "bounced_message_id", "") or ""
        return report
    addresses = getattr(parsed, "bounced_addresses", None) or []
    if report is None and not (parsed.delivery_report and addresses):
        return None
    # The parse branch found failed addresses without their statuses: recorded as soft
    # bounces (nothing is suppressed on a guess).
    return DeliveryReport(
        recipients=[
            RecipientStatus(address=a.lower(), action="failed", status="", diagnostic="")
            for a in addresses
        ],
        original_message_id=getattr(parsed, "bounced_message_id", "") or "",
    )


def _note(bounce: RecipientStatus, recipient, suppressed: int) -> str:
    text = f"{bounce.detail[:80]} for {bounce.address}"
    if recipient is not None:
        text += f": recipient {recipient.pk} of campaign {recipient.campaign_id}"
    else:
        text += ": no campaign recipient matched"
    if suppressed:
        text += f", address suppressed on {suppressed} customer(s)"
    return text
