"""A customer's email reaching the drop-box tells the rep under the bell (kind "reply"),
once; the rep's own outgoing copy tells nobody."""

import pytest

from core.models import Notification
from integrations.mail.ingest import ingest_raw
from tests.integrations.mail_helpers import DROP_BOX
from tests.integrations.test_mail_sales import message

pytestmark = pytest.mark.django_db


def test_a_customers_email_notifies_the_rep_once(rep, dropbox, acme):
    raw = message(sender="buyer@acme.test", to=["rep@example.com"], cc=[DROP_BOX])
    ingest_raw(mailbox=dropbox, raw=raw)
    ingest_raw(mailbox=dropbox, raw=raw)  # the same message again
    note = Notification.objects.get(recipient=rep)
    assert note.kind == "reply" and "buyer@acme.test" in note.text
    assert note.url == acme.get_absolute_url()


def test_the_reps_own_copy_notifies_nobody(rep, dropbox, acme):
    ingest_raw(mailbox=dropbox, raw=message(sender="rep@example.com", to=["buyer@acme.test"]))
    assert not Notification.objects.exists()
