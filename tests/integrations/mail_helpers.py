"""Mailboxes on the session's real dovecot (tests/mailservers.py) and messages to put in them."""

import uuid

from integrations.models import InboundEmail, Mailbox

# The sales drop-box's address (the `dropbox` fixture) and a small PNG to attach.
DROP_BOX = "sales@crm.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# What a message may end as once handled: anything but `received` (never processed).
HANDLED = {status for status in InboundEmail.Status.values if status != "received"}


def message(subject: str = "Hello", *, sender: str = "ann@example.org", body: str = "Hi.") -> bytes:
    message_id = f"<{uuid.uuid4().hex}@client.example.org>"
    return (
        f"From: Ann Example <{sender}>\r\nTo: bounces@crm.example.com\r\n"
        f"Subject: {subject}\r\nMessage-ID: {message_id}\r\n"
        "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="utf-8"\r\n\r\n{body}\r\n'
    ).encode()


def mailbox_on(imap_server, imap_user, monkeypatch, *, folder="INBOX", purpose="bounces"):
    """A Mailbox reading `imap_user`'s folder; its password in a variable of its own."""
    address, password = imap_user
    variable = f"CRM_TEST_MAIL_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(variable, password)
    return Mailbox.objects.create(
        name=f"box-{uuid.uuid4().hex[:8]}", purpose=purpose, address=address,
        host=imap_server.host, port=imap_server.port, security=Mailbox.Security.NONE,
        username=address, password_env=variable, folder=folder,
    )  # fmt: skip
