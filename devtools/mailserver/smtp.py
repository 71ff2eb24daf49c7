"""An SMTP server (aiosmtpd) that accepts mail for the dovecot users and delivers each
message into their mailboxes over LMTP, so a test reads what the CRM sent in the
customer's IMAP mailbox. Every accepted message is also kept in `messages` (raw bytes)."""

import smtplib
import threading
from email.message import Message
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devtools.mailserver.dovecot import DovecotServer, free_port


class DeliverToDovecot:
    def __init__(self, dovecot: DovecotServer) -> None:
        self.dovecot = dovecot
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address.lower() not in self.dovecot.passwords:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            with smtplib.LMTP(self.dovecot.host, self.dovecot.lmtp_port, timeout=30) as lmtp:
                lmtp.sendmail(envelope.mail_from or "", [r.lower() for r in envelope.rcpt_tos], raw)
        except (smtplib.SMTPException, OSError) as error:
            return f"451 4.3.0 delivery to dovecot failed: {error}"
        with self.lock:
            self.messages.append(raw)
        return "250 2.0.0 delivered"


class SmtpServer:
    """`start()` listens on a free port on 127.0.0.1; `messages` holds what it accepted."""

    host = "127.0.0.1"

    def __init__(self, dovecot: DovecotServer) -> None:
        self.port = free_port()
        self.handler = DeliverToDovecot(dovecot)
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[bytes]:
        return self.handler.messages

    def parsed(self) -> list[Message]:
        return [BytesParser().parsebytes(raw) for raw in self.messages]

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
