"""Two real Celery workers race on one campaign: every recipient gets exactly one email.

The workers are separate processes on Redis with the test database (PostgreSQL); their
mail goes through DirBackend below, one file per accepted message in a temporary folder,
so this process can count what was sent to each address.
"""

import os
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

from crm.celery import app
from devtools.bench import start_celery_worker
from marketing.models import Campaign, CampaignRecipient
from marketing.services import sending
from tests.conftest import missing_service
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory
from tests.helpers import wait_for

RECIPIENTS = 200


class DirBackend(BaseEmailBackend):
    """Writes each message to its own file in $MARKETING_TEST_MAIL_DIR (named by address)."""

    def send_messages(self, messages):
        folder = Path(os.environ["MARKETING_TEST_MAIL_DIR"])
        for message in messages:
            time.sleep(0.06)  # a slow server: a batch outlasts its one-second slot, so they overlap
            name = f"{message.to[0]}.{uuid.uuid4().hex}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
        return len(messages)


@pytest.fixture
def two_workers(redis_url, transactional_db, django_db_serialized_rollback, settings, tmp_path):
    """Like tests/conftest.py's celery_worker, with two worker processes on one queue."""
    if connection.vendor != "postgresql":
        missing_service("the worker race test needs PostgreSQL (set DATABASE_URL)")
    db = connection.settings_dict
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "SECRET_KEY": settings.SECRET_KEY,
        "EMAIL_BACKEND": "tests.marketing.test_send_worker.DirBackend",
        "MARKETING_TEST_MAIL_DIR": str(tmp_path),
    }  # fmt: skip
    names = [f"{queue}-a", f"{queue}-b"]
    workers = [start_celery_worker(queue, name, env) for name in names]
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    try:
        host = os.uname().nodename
        deadline = time.monotonic() + 60
        while len(app.control.ping(destination=[f"{n}@{host}" for n in names], timeout=0.5)) < 2:
            if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
                pytest.fail("the Celery workers did not start")
        yield {"names": names, "mail_dir": tmp_path}
    finally:
        app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=15)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_racing_send_each_recipient_exactly_once(two_workers):
    customers = CustomerFactory.create_batch(RECIPIENTS)
    for customer in customers:
        ConsentFactory(customer=customer)
    campaign = CampaignFactory(
        subject="Hi {{ first_name }}", body="Code {{ coupon_code }}", coupon_prefix="RACE"
    )
    # 1,200 a minute: batches of 20, one a second, shared by both workers.
    sending.campaign_send(campaign=campaign, by=campaign.owner, rate=1200)  # dispatches one task
    sending.dispatch(campaign.pk, copies=3)  # and three duplicates, as a redelivery would

    def finished():
        return Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT

    assert wait_for(finished, seconds=120), Counter(
        CampaignRecipient.objects.values_list("status", flat=True)
    )
    files = list(two_workers["mail_dir"].glob("*.eml"))
    per_address = Counter(path.name.split(".eml")[0].rsplit(".", 1)[0] for path in files)
    assert len(files) == RECIPIENTS
    assert set(per_address.values()) == {1}
    assert set(per_address) == {c.email for c in customers}
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert rows.filter(status="sent").count() == RECIPIENTS
    assert set(rows.values_list("attempts", flat=True)) == {1}
    # Both workers really took part in the race.
    claimers = {claimed.split("@")[0] for claimed in rows.values_list("claimed_by", flat=True)}
    assert claimers == set(two_workers["names"])
    # Each message carries its recipient's own coupon and the unsubscribe headers.
    sample = rows.select_related("customer").first()
    (path,) = [p for p in files if p.name.startswith(sample.customer.email + ".")]
    text = path.read_text()
    assert sample.coupon_code in text
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in text
