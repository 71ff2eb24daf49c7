"""Delivery-status notifications as real MTAs send them (shapes copied from Postfix 3.7,
Exim 4.96 and Gmail bounces, with the addresses and ids of the test), plus the mail a
bounces mailbox also receives: a delay warning, a read receipt, a person's reply."""


def _crlf(text: str) -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode()


def postfix_hard(*, address: str, original_id: str) -> bytes:
    """Postfix: the original's headers only (text/rfc822-headers), Original-Recipient."""
    return _crlf(f"""
Return-Path: <>
Received: by mx.shop.example (Postfix)
	id 3F1A2B40C1; Sun,  6 Dec 2026 10:00:01 +0800 (CST)
Date: Sun,  6 Dec 2026 10:00:01 +0800 (CST)
From: MAILER-DAEMON@mx.shop.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces@shop.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="3F1A2B40C1.1765000001/mx.shop.example"
Content-Transfer-Encoding: 8bit
Message-Id: <20261206020001.3F1A2B40C1@mx.shop.example>

This is a MIME-encapsulated message.

--3F1A2B40C1.1765000001/mx.shop.example
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.shop.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

                   The mail system

<{address}>: host mx.example.net[203.0.113.5] said: 550 5.1.1
    <{address}>: Recipient address rejected: User unknown in virtual mailbox
    table (in reply to RCPT TO command)

--3F1A2B40C1.1765000001/mx.shop.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.shop.example
X-Postfix-Queue-ID: 3F1A2B40C1
X-Postfix-Sender: rfc822; news@shop.example
Arrival-Date: Sun,  6 Dec 2026 10:00:00 +0800 (CST)

Final-Recipient: rfc822; {address}
Original-Recipient: rfc822;{address}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected:
    User unknown in virtual mailbox table

--3F1A2B40C1.1765000001/mx.shop.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <news@shop.example>
Received: from crm.shop.example (crm.shop.example [192.0.2.10])
	by mx.shop.example (Postfix) with ESMTP id 3F1A2B40C1
	for <{address}>; Sun,  6 Dec 2026 10:00:00 +0800 (CST)
Subject: Spring sale
From: news@shop.example
To: {address}
Message-ID: {original_id}
List-Unsubscribe-Post: List-Unsubscribe=One-Click

--3F1A2B40C1.1765000001/mx.shop.example--
""")


def postfix_delayed(*, address: str, original_id: str) -> bytes:
    """Postfix's warning after hours of retries: not a bounce (it is still trying)."""
    hard = postfix_hard(address=address, original_id=original_id).decode()
    return (
        hard.replace("Undelivered Mail Returned to Sender", "Delayed Mail (still being retried)")
        .replace("Action: failed", "Action: delayed")
        .replace("Status: 5.1.1", "Status: 4.4.1")
        .replace("20261206020001.3F1A2B40C1", "20261206080001.3F1A2B40C1")
        .encode()
    )


def exim_hard(*, address: str, original_id: str) -> bytes:
    """Exim: no Original-Recipient, a generic 5.0.0 status, the whole original quoted."""
    return _crlf(f"""
Return-path: <>
Envelope-to: bounces@shop.example
Received: from Debian-exim by mail.example.org with local (Exim 4.96)
	id 1kXyZa-0001Ab-Cd
	for bounces@shop.example; Sun, 06 Dec 2026 02:00:01 +0000
X-Failed-Recipients: {address}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mail.example.org>
To: bounces@shop.example
Content-Type: multipart/report; report-type=delivery-status; boundary=1765000001-eximdsn-1804289383
MIME-Version: 1.0
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1kXyZa-0001Ab-Cd@mail.example.org>
Date: Sun, 06 Dec 2026 02:00:01 +0000

--1765000001-eximdsn-1804289383
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {address}
    host mx.example.org [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<{address}>:
    550 5.1.1 No such user here

--1765000001-eximdsn-1804289383
Content-type: message/delivery-status

Reporting-MTA: dns; mail.example.org

Action: failed
Final-Recipient: rfc822;{address}
Status: 5.0.0
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 No such user here

--1765000001-eximdsn-1804289383
Content-type: message/rfc822

Return-path: <news@shop.example>
Received: from crm.shop.example ([192.0.2.10])
	by mail.example.org with esmtp (Exim 4.96)
	id 1kXyZZ-0001AZ-Ab
	for {address}; Sun, 06 Dec 2026 02:00:00 +0000
From: news@shop.example
To: {address}
Subject: Spring sale
Message-ID: {original_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, our spring sale starts today.

--1765000001-eximdsn-1804289383--
""")


def gmail_soft(*, address: str, original_id: str) -> bytes:
    """Gmail: a mailbox over quota (4.2.2), notification in multipart/related + alternative."""
    return _crlf(f"""
Delivered-To: bounces@shop.example
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: bounces@shop.example
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: {original_id}
In-Reply-To: {original_id}
X-Failed-Recipients: {address}
Message-ID: <6752a0e1.050a0220.3b2f1c.9a7dGMR@mx.google.com>
Date: Sun, 06 Dec 2026 02:00:02 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000ab12cd05b5d2a001"; report-type=delivery-status

--000000000000ab12cd05b5d2a001
Content-Type: multipart/related; boundary="000000000000ab1a2b05b5d2a002"

--000000000000ab1a2b05b5d2a002
Content-Type: multipart/alternative; boundary="000000000000ab1a2c05b5d2a003"

--000000000000ab1a2c05b5d2a003
Content-Type: text/plain; charset="UTF-8"


** Message not delivered **

Your message couldn't be delivered to {address} because the remote server is
misconfigured. See technical details below for more information.

The response from the remote server was:
452 4.2.2 The email account that you tried to reach is over quota.

--000000000000ab1a2c05b5d2a003
Content-Type: text/html; charset="UTF-8"

<html><body><h2>Message not delivered</h2><p>The email account is over quota.</p></body></html>

--000000000000ab1a2c05b5d2a003--
--000000000000ab1a2b05b5d2a002--
--000000000000ab12cd05b5d2a001
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; news@shop.example
Arrival-Date: Sun, 06 Dec 2026 01:59:58 -0800 (PST)
X-Original-Message-ID: {original_id}

Final-Recipient: rfc822; {address}
Action: failed
Status: 4.2.2
Remote-MTA: dns; gmail-smtp-in.l.google.com. (2607:f8b0:4864:20::2b, the server for the domain gmail.com.)
Diagnostic-Code: smtp; 452-4.2.2 The email account that you tried to reach is over quota.
Last-Attempt-Date: Sun, 06 Dec 2026 02:00:02 -0800 (PST)

--000000000000ab12cd05b5d2a001
Content-Type: message/rfc822

From: news@shop.example
To: {address}
Subject: Spring sale
Message-ID: {original_id}
Date: Sun, 06 Dec 2026 01:59:58 -0800

Hello, our spring sale starts today.

--000000000000ab12cd05b5d2a001--
""")


def read_receipt(*, address: str, original_id: str) -> bytes:
    """A multipart/report that is not about delivery (RFC 8098 disposition notification)."""
    return _crlf(f"""
From: {address}
To: bounces@shop.example
Subject: Read: Spring sale
Message-ID: <mdn-1@example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn"

--mdn
Content-Type: text/plain

Your message was displayed.

--mdn
Content-Type: message/disposition-notification

Final-Recipient: rfc822; {address}
Original-Message-ID: {original_id}
Disposition: manual-action/MDN-sent-manually; displayed

--mdn--
""")


def person_reply(*, address: str) -> bytes:
    return _crlf(f"""
From: Li Lei <{address}>
To: bounces@shop.example
Subject: Re: Spring sale
Message-ID: <reply-1@example.net>
Content-Type: text/plain; charset=utf-8

Please take me off this list.
""")


def mangled_report(*, address: str) -> bytes:
    """A multipart/report whose status part is noise and whose boundary never closes."""
    return _crlf(f"""
From: MAILER-DAEMON@mx.shop.example
To: bounces@shop.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <mangled-1@mx.shop.example>
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

\x00\x01 garbage {address} Status: banana
Final-Recipient: ;;;
Action: failed
""")
