"""The tests' own mail servers (tests/mailservers.py): what Django sends through the SMTP
server lands in the recipient's dovecot mailbox, readable over IMAP."""

import smtplib

import pytest
from django.core.mail import EmailMessage


def test_mail_sent_through_smtp_arrives_in_the_imap_mailbox(
    smtp_email_settings, imap_server, imap_user
):
    address, _password = imap_user
    message = EmailMessage("Your ticket", "We are on it.", "support@crm.example.com", [address])
    message.extra_headers["Message-ID"] = "<reply-1@crm.example.com>"
    message.send()

    assert len(smtp_email_settings.messages) == 1
    (received,) = imap_server.fetch_all(address)
    assert b"Message-ID: <reply-1@crm.example.com>" in received
    assert b"Delivered-To: " + address.encode() in received  # through dovecot's LMTP
    assert b"We are on it." in received


def test_an_unknown_recipient_is_refused(smtp_server):
    with (
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        client.sendmail("a@example.org", ["nobody@example.com"], b"Subject: x\r\n\r\nx\r\n")
    assert smtp_server.messages == []
