"""A large export runs on a real Celery worker (Redis, another process): the page follows
its progress and the file is downloaded once from the storage both processes share."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from core.models import ExportFile
from crm import roles
from crm.celery import app
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_export_and_it_is_downloaded_once(celery_worker, settings):
    settings.CRM_EXPORT_BACKGROUND_ROWS = 100  # the worker only reads the job's row
    manager = UserFactory(username="export-manager", role=roles.MANAGER)
    CustomerFactory.create_batch(250)
    client = Client()
    client.force_login(manager)
    response = client.get(reverse("customers:customer-export"))
    assert response.status_code == 302
    job = ExportFile.objects.get(owner=manager)

    def ready():
        job.refresh_from_db()
        return job.status in (ExportFile.Status.READY, ExportFile.Status.FAILED)

    assert wait_for(ready, seconds=60, every=0.2), f"export still {job.status}"
    assert job.status == ExportFile.Status.READY, job.error
    assert job.rows_done == 250
    download = client.post(reverse("core:export-download", args=[job.pk]))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 251
    job.refresh_from_db()
    assert job.status == ExportFile.Status.DOWNLOADED and not job.file
    stats = app.control.inspect(timeout=5).stats() or {}
    totals = [worker["total"] for name, worker in stats.items() if name.startswith(celery_worker)]
    assert totals == [{"core.tasks.build_export_file": 1}]
