"""“Recompute now” and the progress display: permissions, htmx fragments, refusals."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from analytics.models import SegmentRun
from tests.analytics.test_runs import order
from tests.factories import CustomerFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
RECOMPUTE = reverse("analytics:recompute")


@pytest.fixture
def customers(db):
    for i in range(6):
        order(CustomerFactory(), f"2026-0{1 + i % 5}-1{i}", f"{10 + i}.00")


def status_url(run, poll=False):
    return reverse("analytics:run-status", args=[run.pk]) + ("?poll=1" if poll else "")


def test_a_manager_recomputes_and_follows_the_progress(
    manager_client, customers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = manager_client.post(RECOMPUTE, **HTMX)
    assert response.status_code == 200 and len(callbacks) == 1
    run = SegmentRun.objects.get()
    page = response.content.decode()
    # The task was queued after the response: the fragment polls the run's status.
    assert 'id="segment-run-status"' in page and "Waiting for a worker" in page
    assert f'hx-get="{status_url(run, poll=True)}"' in page and 'hx-trigger="every 1s"' in page
    assert 'role="progressbar"' in page
    # The queued task has run inline since: the next poll sees it finished and reloads.
    response = manager_client.get(status_url(run, poll=True), **HTMX)
    assert response["HX-Refresh"] == "true"
    page = response.content.decode()
    assert "Completed: 6 customers in" in page and "hx-get" not in page
    # Shown on a page load (not a poll), the finished status does not reload the page again.
    response = manager_client.get(status_url(run), **HTMX)
    assert "HX-Refresh" not in response and "Completed: 6 customers" in response.content.decode()


def test_running_runs_show_their_step_and_progress(manager_client, db):
    run = SegmentRun.objects.create(as_of=date(2026, 6, 30), status="running", step="fit")
    SegmentRun.objects.filter(pk=run.pk).update(progress=25)
    page = manager_client.get(status_url(run, poll=True), **HTMX).content.decode()
    assert "Fitting the models" in page and 'aria-valuenow="25"' in page and "width: 25%" in page
    assert "hx-get" in page


def test_without_htmx_the_button_redirects_to_the_dashboard(manager_client, db):
    response = manager_client.post(RECOMPUTE)
    assert response.status_code == 302 and response["Location"] == reverse("analytics:segments")
    assert SegmentRun.objects.get().status == SegmentRun.Status.QUEUED


def test_a_second_run_is_refused_with_the_reason(manager_client, db):
    going = SegmentRun.objects.create(as_of=date(2026, 6, 30), status="running", step="score")
    response = manager_client.post(RECOMPUTE, **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "already running" in page
    assert f'hx-get="{status_url(going, poll=True)}"' in page  # follows the run that is going
    response = manager_client.post(RECOMPUTE, follow=False)
    assert response.status_code == 302
    assert list(SegmentRun.objects.all()) == [going]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("already running" in m for m in messages)


def test_a_failed_run_shows_its_error_escaped(manager_client, db):
    run = SegmentRun.objects.create(
        as_of=date(2026, 6, 30), status="failed", error="<script>alert(1)</script> disk full"
    )
    page = manager_client.get(status_url(run)).content.decode()
    assert "The segment run failed." in page and "disk full" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize("persona", ["rep", "marketer", "agent", "nobody"])
def test_only_managers_may_recompute(db, request, persona):
    client = request.getfixturevalue(f"{persona}_client")
    assert client.post(RECOMPUTE, **HTMX).status_code == 403
    assert not SegmentRun.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("rep", 200), ("marketer", 200), ("agent", 403)])
def test_who_may_see_a_run_status(db, request, persona, status):
    run = SegmentRun.objects.create(as_of=date(2026, 6, 30), status="succeeded")
    client = request.getfixturevalue(f"{persona}_client")
    assert client.get(status_url(run)).status_code == status


def test_anonymous_users_are_sent_to_log_in(db):
    run = SegmentRun.objects.create(as_of=date(2026, 6, 30))
    for response in (Client().post(RECOMPUTE), Client().get(status_url(run))):
        assert response.status_code == 302 and "/login" in response["Location"]


def test_methods_and_missing_runs(manager_client, db):
    assert manager_client.get(RECOMPUTE).status_code == 405
    assert manager_client.get(reverse("analytics:run-status", args=[999999])).status_code == 404
    run = SegmentRun.objects.create(as_of=date(2026, 6, 30))
    assert manager_client.post(status_url(run)).status_code == 405


def test_the_status_fragment_costs_a_constant_number_of_queries(
    manager_client, customers, django_assert_max_num_queries
):
    run = SegmentRun.objects.create(as_of=date(2026, 6, 30), status="running", step="score")
    with django_assert_max_num_queries(6):
        manager_client.get(status_url(run, poll=True), **HTMX)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_finished_inline_reloads_the_page_so_the_header_count_is_new(manager):
    """On the embedded default the run completes inside the request and nothing polls: the
    header kept the old customer count until a manual reload (issue 16)."""
    for i in range(3):
        order(CustomerFactory(), f"2026-0{1 + i}-1{i}", f"{10 + i}.00")
    client = Client()
    client.force_login(manager)
    response = client.post(RECOMPUTE, **HTMX)
    assert SegmentRun.objects.get().status == SegmentRun.Status.SUCCEEDED
    assert response["HX-Refresh"] == "true"
