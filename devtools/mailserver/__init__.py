"""Real mail servers for tests, benchmarks and a developer's machine (issue 14): Debian's
dovecot for IMAP (dovecot.py) and an aiosmtpd SMTP server that delivers each message into
the recipient's dovecot mailbox over LMTP (smtp.py). `python -m devtools.mailserver` starts
both in the foreground. Never used in production: the CRM reads real mail providers."""
