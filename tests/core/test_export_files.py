"""Issue 13, point 6: a large export is written in the background, shown with its progress on
the exports page, downloaded once (then deleted), and expired by the beat sweep."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.export_services import export_files_sweep
from core.models import AuditEvent, ExportFile
from tests.factories import CustomerFactory, DealFactory

EXPORTS = reverse("core:exports")


@pytest.fixture(autouse=True)
def small_threshold(settings, tmp_path):
    settings.CRM_EXPORT_BACKGROUND_ROWS = 2
    settings.MEDIA_ROOT = tmp_path


def _download(client: Client, job: ExportFile):
    return client.post(reverse("core:export-download", args=[job.pk]))


def _rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_a_large_export_is_written_in_the_background_and_downloaded_once(
    manager, manager_client, django_capture_on_commit_callbacks
):
    CustomerFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.get(reverse("customers:customer-export"))
    assert response.status_code == 302 and response["Location"] == EXPORTS
    job = ExportFile.objects.get(owner=manager)
    assert job.status == ExportFile.Status.READY and job.rows_total == job.rows_done == 3
    stored = job.file.name
    assert default_storage.exists(stored)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.rows == 3 and event.detail["background"] is True

    page = manager_client.get(EXPORTS)
    assert "rows: the file is being written" in page.text  # the message after the redirect
    assert job.filename in page.text and "Download" in page.text

    rows = _rows(_download(manager_client, job))
    assert len(rows) == 4 and rows[0][1] == "name"
    job.refresh_from_db()
    assert job.status == ExportFile.Status.DOWNLOADED and not job.file
    assert not default_storage.exists(stored)

    again = _download(manager_client, job)
    assert again.status_code == 302  # back to the page, with a message; no file
    assert "downloaded already" in manager_client.get(EXPORTS).text


def test_nobody_else_sees_or_downloads_the_file(
    manager_client, rep_client, django_capture_on_commit_callbacks
):
    CustomerFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.get(reverse("customers:customer-export"))
    job = ExportFile.objects.get()
    assert job.filename not in rep_client.get(EXPORTS).text
    assert _download(rep_client, job).status_code == 404
    assert rep_client.get(reverse("core:export-download", args=[job.pk])).status_code == 405
    job.refresh_from_db()
    assert job.status == ExportFile.Status.READY


def test_the_background_job_keeps_the_role_scope(rep, rep_client, rep2,
                                                 django_capture_on_commit_callbacks):  # fmt: skip
    for _ in range(3):
        DealFactory(owner=rep)
    DealFactory(owner=rep2, title="Not yours")
    with django_capture_on_commit_callbacks(execute=True):
        assert rep_client.get(reverse("sales:deal-export")).status_code == 302
    job = ExportFile.objects.get(owner=rep)
    rows = _rows(_download(rep_client, job))
    assert len(rows) == 4 and "Not yours" not in repr(rows)


def test_a_job_whose_owner_lost_the_permission_fails(
    rep, rep_client, django_capture_on_commit_callbacks
):
    CustomerFactory.create_batch(3, owner=rep)
    rep_client.get(reverse("customers:customer-export"))  # queued, not run yet
    job = ExportFile.objects.get()
    rep.groups.clear()
    from core.export_services import export_file_build

    assert export_file_build(job.pk) == ExportFile.Status.FAILED
    job.refresh_from_db()
    assert "no longer export" in job.error and not job.file


def test_the_sweep_expires_files_and_fails_stalled_jobs(manager):
    now = timezone.now()
    name = default_storage.save("exports/old.csv", ContentFile(b"name\nAnn\n"))
    old = ExportFile.objects.create(owner=manager, source="customers", filename="a.csv",
                                    file=name, status="ready", expires_at=now - timedelta(1))  # fmt: skip
    fresh = ExportFile.objects.create(owner=manager, source="customers", filename="b.csv",
                                      status="ready", expires_at=now + timedelta(1))  # fmt: skip
    stalled = ExportFile.objects.create(owner=manager, source="customers", filename="c.csv",
                                        status="running", heartbeat_at=now - timedelta(hours=1))  # fmt: skip
    assert export_files_sweep(now=now) == {"expired": 1, "requeued": 0, "stalled": 1}
    for job in (old, fresh, stalled):
        job.refresh_from_db()
    assert old.status == "expired" and not old.file and not default_storage.exists(name)
    assert fresh.status == "ready" and stalled.status == "failed"


def test_the_sweep_publishes_a_job_whose_message_was_lost(manager):
    CustomerFactory.create_batch(3)
    lost = ExportFile.objects.create(owner=manager, source="customers", filename="d.csv",
                                     created_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    assert export_files_sweep()["requeued"] == 1  # tasks run inline in tests
    lost.refresh_from_db()
    assert lost.status == "ready" and lost.rows_done == 3


def test_the_exports_page_costs_the_same_queries_for_one_job_or_twenty(
    manager, manager_client, django_assert_max_num_queries
):
    ExportFile.objects.create(owner=manager, source="customers", filename="one.csv")
    manager_client.get(EXPORTS)
    with django_assert_max_num_queries(6) as one:
        manager_client.get(EXPORTS)
    for i in range(19):
        ExportFile.objects.create(owner=manager, source="customers", filename=f"{i}.csv",
                                  status="failed", error="x")  # fmt: skip
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert manager_client.get(EXPORTS).status_code == 200


def test_the_page_polls_only_while_a_job_runs(manager, manager_client):
    job = ExportFile.objects.create(owner=manager, source="customers", filename="x.csv")
    assert 'hx-trigger="every 2s"' in manager_client.get(EXPORTS).text
    partial = manager_client.get(EXPORTS, HTTP_HX_REQUEST="true")
    assert partial.text.lstrip().startswith('<div id="export-list"')
    ExportFile.objects.filter(pk=job.pk).update(status="failed")
    assert 'hx-trigger="every 2s"' not in manager_client.get(EXPORTS).text


def test_the_empty_page(rep_client):
    assert "No exports yet" in rep_client.get(EXPORTS).text


def test_admins_watch_the_jobs_but_get_no_file(manager, client):
    from tests.factories import UserFactory

    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    job = ExportFile.objects.create(owner=manager, source="customers", filename="z.csv")
    client.force_login(admin_user)
    assert client.get(reverse("admin:core_exportfile_changelist")).status_code == 200
    page = client.get(reverse("admin:core_exportfile_change", args=[job.pk]))
    assert page.status_code == 200 and 'name="file"' not in page.text
    assert _download(client, job).status_code == 404  # not the owner
