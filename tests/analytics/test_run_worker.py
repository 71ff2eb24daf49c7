"""The segment run on a real Celery worker with Redis: the chord of chunks and its finish."""

import pytest
from django.test import Client
from django.urls import reverse

from analytics.models import CustomerValue, SegmentRun
from crm import roles
from crm.celery import app
from tests.analytics.test_runs import order
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import wait_for


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_the_chunks_and_publishes_the_run(celery_worker):
    for i in range(12):
        customer = CustomerFactory()
        for k in range(1 + i % 3):
            order(customer, f"2026-0{1 + k}-1{i % 10}", f"{12 + i}.00")
    manager = UserFactory(username="worker-manager", role=roles.MANAGER)
    client = Client()
    client.force_login(manager)

    response = client.post(reverse("analytics:recompute"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    run = SegmentRun.objects.get()
    assert "hx-get" in response.content.decode()  # queued: the page polls

    def finished():
        run.refresh_from_db()
        return not run.is_active

    assert wait_for(finished, every=0.2), f"run still {run.status} at {run.step} {run.progress}%"
    assert run.status == SegmentRun.Status.SUCCEEDED, run.error
    assert run.is_current and run.progress == 100 and run.customers == 12
    assert CustomerValue.objects.filter(run=run).count() == 12
    poll = client.get(
        reverse("analytics:run-status", args=[run.pk]) + "?poll=1", HTTP_HX_REQUEST="true"
    )
    assert poll["HX-Refresh"] == "true" and "Completed: 12 customers" in poll.content.decode()
    # The worker process, not this one, ran every task of the run.
    stats = app.control.inspect(timeout=5).stats() or {}
    totals = [worker["total"] for name, worker in stats.items() if name.startswith(celery_worker)]
    assert len(totals) == 1
    ran = totals[0]
    assert ran["analytics.tasks.run_segments"] == 1
    assert ran["analytics.tasks.score_chunk"] >= 1
    assert ran["analytics.tasks.recommend"] == 1
    assert ran["analytics.tasks.finish_run"] == 1
