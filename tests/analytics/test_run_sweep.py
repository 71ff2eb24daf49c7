"""A run whose worker is gone blocks nothing: the beat's sweep fails it within minutes, a
failed publish fails it at once, and a manager can cancel it. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL."""

from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from analytics import runs
from analytics.models import CustomerValue, SegmentRun, SegmentSummary
from analytics.services import RunAlreadyActive, run_compute_now, run_request
from analytics.tasks import run_segments, sweep_runs
from crm.celery import app
from tests.analytics.test_runs import order
from tests.factories import CustomerFactory

AS_OF = date(2026, 6, 30)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def customers(db):
    for i in range(6):
        order(CustomerFactory(), f"2026-0{1 + i % 5}-1{i}", f"{10 + i}.00")


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def run_with(**fields) -> SegmentRun:
    return SegmentRun.objects.create(as_of=AS_OF, **fields)


def status(run: SegmentRun) -> str:
    run.refresh_from_db()
    return run.status


# --- the sweep -------------------------------------------------------------------------


def test_a_queued_run_no_worker_picked_up_is_failed_after_the_stale_time(db, settings):
    settings.CRM_RUN_STALE_SECONDS = 300
    lost = run_with(status="queued", step="queued", created_at=ago(301))
    assert sweep_runs() == 1  # the beat's task, inline
    lost.refresh_from_db()
    assert lost.status == "failed" and lost.finished_at is not None
    assert lost.error == ("No worker started the run within 5 minutes: is a Celery worker running?")


def test_a_fresh_queued_run_is_left_alone(db, settings):
    settings.CRM_RUN_STALE_SECONDS = 300
    waiting = run_with(status="queued", step="queued", created_at=ago(200))
    assert runs.sweep_stale() == 0 and status(waiting) == "queued"


def test_a_running_run_whose_heartbeat_stopped_is_failed_and_its_rows_deleted(db, settings):
    settings.CRM_RUN_STALE_SECONDS = 90
    silent = run_with(
        status="running", step="score", created_at=ago(4000), started_at=ago(4000),
        heartbeat_at=ago(91),
    )  # fmt: skip
    customer = CustomerFactory()
    CustomerValue.objects.create(
        run=silent, customer=customer, first_purchase=AS_OF, last_purchase=AS_OF,
        recency_days=0, purchase_days=1, orders=1, revenue=1, average_order_value=1,
        r_score=1, f_score=1, m_score=1, segment="new", probability_alive=1,
        expected_purchases=0, predicted_ltv=0,
    )  # fmt: skip
    assert runs.sweep_stale() == 1
    silent.refresh_from_db()
    assert silent.status == "failed"
    assert silent.error == (
        "The worker stopped before finishing: no sign of life for 90 seconds"
        " at step “Scoring customers”."
    )
    assert not CustomerValue.objects.filter(run=silent).exists()


def test_a_long_run_that_keeps_beating_is_never_failed(db, settings):
    """The old rule failed anything older than three hours, alive or not."""
    settings.CRM_RUN_STALE_SECONDS = 300
    alive = run_with(
        status="running", step="score", created_at=ago(5 * 3600), started_at=ago(5 * 3600),
        heartbeat_at=ago(10),
    )  # fmt: skip
    assert runs.sweep_stale() == 0 and status(alive) == "running"


def test_a_running_run_without_any_heartbeat_counts_from_its_start(db, settings):
    settings.CRM_RUN_STALE_SECONDS = 300
    started = run_with(status="running", step="aggregate", created_at=ago(900), started_at=ago(60))
    assert runs.sweep_stale() == 0 and status(started) == "running"
    SegmentRun.objects.filter(pk=started.pk).update(started_at=ago(301))
    assert runs.sweep_stale() == 1 and status(started) == "failed"


def test_a_heartbeat_that_arrives_while_the_sweep_decides_wins(db):
    """fail() re-checks the heartbeat under the row lock: a run that just beat stays."""
    cutoff = ago(300)
    run = run_with(status="running", step="score", started_at=ago(900), heartbeat_at=ago(5))
    assert not runs.fail(run.pk, "stale", only_if_before=cutoff)
    assert status(run) == "running"


def test_finished_runs_are_not_touched(db, settings):
    settings.CRM_RUN_STALE_SECONDS = 60
    done = run_with(status="succeeded", is_current=True, created_at=ago(9000))
    failed = run_with(status="failed", created_at=ago(9000), error="earlier")
    assert runs.sweep_stale() == 0
    assert status(done) == "succeeded" and status(failed) == "failed"
    assert SegmentRun.objects.get(pk=failed.pk).error == "earlier"


def test_after_the_sweep_the_next_run_goes_through(customers, settings):
    settings.CRM_RUN_STALE_SECONDS = 300
    stuck = run_with(status="running", step="fit", started_at=ago(400), heartbeat_at=ago(400))
    run = run_compute_now(as_of=AS_OF)  # the request sweeps too: no beat needed
    assert status(stuck) == "failed"
    assert run.status == "succeeded" and run.is_current


def test_a_live_run_still_refuses_a_second_one(db, settings):
    settings.CRM_RUN_STALE_SECONDS = 300
    run_with(status="running", step="fit", started_at=ago(400), heartbeat_at=ago(3))
    with pytest.raises(RunAlreadyActive, match="already running"):
        run_request(as_of=AS_OF)


def test_the_sweep_is_on_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["analytics-sweep-runs"]
    assert entry["task"] == sweep_runs.name == "analytics.tasks.sweep_runs"
    assert entry["schedule"] == timedelta(seconds=django_settings.CRM_SWEEP_SECONDS)
    assert django_settings.CRM_SWEEP_SECONDS == 60
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= 3600


def test_every_step_of_a_run_beats(customers, settings):
    settings.CRM_SEGMENTS_CHUNK_SIZE = 1000
    run = run_with(status="queued", step="queued")
    before = timezone.now()
    ranges = runs.start(run.pk)
    run.refresh_from_db()
    assert run.heartbeat_at >= before and run.started_at >= before
    SegmentRun.objects.filter(pk=run.pk).update(heartbeat_at=ago(1000))
    runs.score_chunk(run.pk, *ranges[0], 1, 0)
    run.refresh_from_db()
    assert run.heartbeat_at >= before


def test_tasks_are_acknowledged_after_they_ran():
    from analytics import tasks

    for task in (tasks.run_segments, tasks.score_chunk, tasks.recommend, tasks.finish_run):
        assert task.acks_late and task.reject_on_worker_lost, task.name


# --- cancelling ------------------------------------------------------------------------


def test_a_manager_cancels_a_running_run_from_the_page(manager_client, db):
    run = run_with(status="running", step="score", started_at=ago(5), heartbeat_at=ago(1))
    page = manager_client.get(reverse("analytics:segments")).content.decode()
    cancel = reverse("analytics:run-cancel", args=[run.pk])
    assert f'action="{cancel}"' in page and "data-confirm=" in page  # static/js/crm.js asks
    response = manager_client.post(cancel, **HTMX)
    assert response.status_code == 200
    run.refresh_from_db()
    assert (
        run.status == "failed" and run.error == "Cancelled by manager."
    )  # no full name: the username
    page = response.content.decode()
    assert "The segment run failed." in page and "Cancelled by" in page and "hx-get" not in page
    # The next run is not refused.
    assert run_request(as_of=AS_OF).status == "queued"


def test_without_htmx_cancelling_redirects_and_an_ended_run_says_so(manager_client, db):
    run = run_with(status="queued", step="queued")
    cancel = reverse("analytics:run-cancel", args=[run.pk])
    response = manager_client.post(cancel)
    assert response.status_code == 302 and response["Location"] == reverse("analytics:segments")
    assert status(run) == "failed"
    response = manager_client.post(cancel, follow=True)
    assert "This segment run has ended already." in response.content.decode()
    assert status(run) == "failed"


@pytest.mark.parametrize("persona", ["rep_client", "agent_client", "marketer_client"])
def test_only_those_who_run_segments_may_cancel(persona, request, db):
    client = request.getfixturevalue(persona)
    run = run_with(status="running", step="fit", started_at=ago(5))
    page = client.get(reverse("analytics:segments"))
    assert "run-cancel" not in page.content.decode()
    response = client.post(reverse("analytics:run-cancel", args=[run.pk]))
    assert response.status_code == 403 and status(run) == "running"


def test_cancelling_needs_a_post(manager_client, db):
    run = run_with(status="running", step="fit", started_at=ago(5))
    response = manager_client.get(reverse("analytics:run-cancel", args=[run.pk]))
    assert response.status_code == 405 and status(run) == "running"
    assert manager_client.post(reverse("analytics:run-cancel", args=[99999])).status_code == 404


def test_a_cancelled_queued_run_never_runs(customers):
    run = run_with(status="queued", step="queued")
    assert runs.cancel(run.pk, by_name="Meg")
    run_segments.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "Cancelled by Meg."
    assert not CustomerValue.objects.filter(run=run).exists()


def test_a_run_cancelled_mid_run_stops_at_its_next_heartbeat_and_writes_nothing(customers):
    run = run_with(status="queued", step="queued")
    ranges = runs.start(run.pk)  # aggregated and fitted
    assert runs.cancel(run.pk, by_name="Meg")
    with pytest.raises(runs.RunStopped):
        runs.score_chunk(run.pk, *ranges[0], 1, 0)
    with pytest.raises(runs.RunStopped):
        runs.recommendations(run.pk)
    with pytest.raises(runs.RunStopped):
        runs.finish(run.pk, [])
    run.refresh_from_db()
    assert run.status == "failed" and not run.is_current
    assert not CustomerValue.objects.filter(run=run).exists()
    assert not SegmentSummary.objects.filter(run=run).exists()


# --- a publish that fails --------------------------------------------------------------


@pytest.fixture
def broker_down(settings):
    """A real broker connection to a port nothing listens on; publishing fails fast."""
    conf = app.conf
    saved = {k: conf[k] for k in ("broker_url", "task_publish_retry", "broker_connection_timeout")}
    conf.task_always_eager = False
    conf.broker_url = "redis://127.0.0.1:9/0"
    conf.task_publish_retry = False
    conf.broker_connection_timeout = 1
    _forget_connections()  # the pools keep the URL they were made with
    yield
    conf.update(saved)
    conf.task_always_eager = True
    _forget_connections()


def _forget_connections() -> None:
    app._pool = None
    app.amqp._producer_pool = None


def test_a_run_whose_message_cannot_be_published_fails_at_once(
    db, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = run_request(as_of=AS_OF)
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == (
        "The job system (Redis) could not take the run; nothing was computed. Try again."
    )
    # Nothing is left blocking: the next request is accepted (and fails the same way).
    with django_capture_on_commit_callbacks(execute=True):
        assert run_request(as_of=AS_OF).pk != run.pk
