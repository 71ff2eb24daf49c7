"""A message being handled locks its own row, not its mailbox: meanwhile the poller goes on
storing the mailbox's next messages and its last UID (an insert's foreign-key check and an
UPDATE of the mailbox). With the mailbox locked as well, both waited for the handler."""

import threading

import pytest
from django.db import connection, transaction

from integrations.mail.ingest import locked_inbound
from integrations.models import InboundEmail, Mailbox
from tests.helpers import in_own_session


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_poller_stores_while_a_message_is_handled(postgres: None) -> None:
    mailbox = Mailbox.objects.create(
        name="support", purpose=Mailbox.Purpose.SUPPORT, address="help@shop.example",
        host="127.0.0.1", port=143, username="help", password_env="CRM_TEST_PASSWORD",
    )  # fmt: skip
    first = InboundEmail.objects.create(mailbox=mailbox, message_key="first", size=1)
    handling, handled = threading.Event(), threading.Event()

    def handler() -> str:
        with transaction.atomic():
            locked_inbound(first.pk)
            handling.set()
            handled.wait(timeout=10)
        return "handled"

    def poller() -> str:
        assert handling.wait(timeout=10), "the handler never held the message"
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:  # fail at once instead of waiting
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                InboundEmail.objects.create(mailbox=mailbox, message_key="second", size=1)
                Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=2)
        finally:
            handled.set()
        return "stored"

    outcomes: dict = {}
    threads = [in_own_session(work, outcomes, key) for key, work in
               {"handler": handler, "poller": poller}.items()]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"handler": "handled", "poller": "stored"}
    assert Mailbox.objects.get(pk=mailbox.pk).last_uid == 2
