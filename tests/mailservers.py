"""Real mail servers for the tests (issue 14), started once per session by the project's
own scripts (devtools/mailserver): dovecot for IMAP and an SMTP server that delivers into
the dovecot mailboxes. A missing dovecot skips locally and fails under CRM_REQUIRE_SERVICES=1.

- `imap_server`: host, port, add_user(name, password), append(user, raw, folder="INBOX"),
  fetch_all(user), delete_folder(user, folder).
- `smtp_server`: host, port, messages (raw bytes of what it accepted, this test's only).
- `smtp_email_settings`: Django's SMTP backend pointed at smtp_server.
"""

import uuid
from collections.abc import Iterator

import pytest

from devtools.mailserver.dovecot import DovecotServer, dovecot_available
from devtools.mailserver.smtp import SmtpServer


@pytest.fixture(scope="session")
def imap_server() -> Iterator[DovecotServer]:
    from tests.conftest import missing_service  # tests/conftest.py imports this module

    if not dovecot_available():
        missing_service("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    # A directory of its own under /tmp: dovecot's unprivileged processes must reach it
    # (pytest's tmp_path is private to the user running the tests).
    server = DovecotServer()
    try:
        server.start()
    except RuntimeError as error:
        missing_service(f"dovecot did not start: {error}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _smtp_server_session(imap_server) -> Iterator[SmtpServer]:
    server = SmtpServer(imap_server).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(_smtp_server_session) -> SmtpServer:
    _smtp_server_session.messages.clear()
    return _smtp_server_session


@pytest.fixture
def smtp_email_settings(settings, smtp_server) -> SmtpServer:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    return smtp_server


@pytest.fixture
def imap_user(imap_server) -> tuple[str, str]:
    """A fresh, empty mailbox on the session's dovecot: (address, password)."""
    address = f"box-{uuid.uuid4().hex[:10]}@example.com"
    password = uuid.uuid4().hex
    imap_server.add_user(address, password)
    return address, password
