"""The customer import runs as a Celery job: a real worker on Redis writes the rows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm import roles
from crm.celery import app
from customers.models import Customer, CustomerImport
from tests.factories import UserFactory
from tests.helpers import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_the_file_and_the_page_follows_its_progress(celery_worker):
    manager = UserFactory(username="import-manager", role=roles.MANAGER)
    client = Client()
    client.force_login(manager)
    rows = "external_id,name,email\n" + "".join(
        f"W-{i},Worker {i},w{i}@example.com\n" for i in range(1200)
    )
    client.post(
        reverse("customers:customer-import"),
        {"file": SimpleUploadedFile("customers.csv", rows.encode(), "text/csv")},
    )
    customer_import = CustomerImport.objects.get(user=manager)
    page_url = customer_import.get_absolute_url()

    response = client.post(page_url, {"action": "apply", "mode": "all_or_nothing"})
    assert response.status_code == 302
    customer_import.refresh_from_db()
    assert customer_import.status in (CustomerImport.Status.QUEUED, CustomerImport.Status.APPLIED)
    if customer_import.status == CustomerImport.Status.QUEUED:
        assert "Importing in the background" in client.get(page_url).content.decode()
        # A second click while the job runs is refused, not doubled.
        client.post(page_url, {"action": "apply", "mode": "all_or_nothing"})

    def applied():
        customer_import.refresh_from_db()
        return customer_import.status == CustomerImport.Status.APPLIED

    assert wait_for(applied, seconds=60, every=0.2), (
        f"import still {customer_import.status}: {customer_import.error}"
    )
    assert customer_import.created_count == 1200
    assert Customer.objects.filter(external_id__startswith="W-").count() == 1200
    progress = client.get(reverse("customers:customer-import-progress", args=[customer_import.pk]))
    assert progress.status_code == 204 and progress["HX-Refresh"] == "true"
    assert "1200" in client.get(page_url).content.decode()
    # The worker process, not this one, ran the job.
    stats = app.control.inspect(timeout=5).stats() or {}
    totals = [worker["total"] for name, worker in stats.items() if name.startswith(celery_worker)]
    # Once, on that worker (an applied import also queues the duplicates search).
    assert len(totals) == 1 and totals[0]["customers.tasks.import_customers"] == 1
