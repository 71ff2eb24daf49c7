"""The sales mailbox's handler (integrations.mail.ingest): what a message becomes."""

from integrations.mail.ingest import Outcome
from integrations.mail.parse import ParsedEmail
from integrations.models import InboundEmail


def handle(inbound: InboundEmail, parsed: ParsedEmail) -> Outcome:
    raise NotImplementedError("the sales mailbox is not handled yet")
