"""fetch_mail, import_mail, and the beat task with its sweep of unprocessed messages."""

import mailbox as mbox_format
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import PeriodicTaskRun
from integrations.models import InboundEmail, Mailbox
from integrations.tasks import poll_mailboxes
from tests.integrations.mail_helpers import HANDLED, mailbox_on, message


@pytest.fixture
def mailbox(db, imap_server, imap_user, monkeypatch) -> Mailbox:
    return mailbox_on(imap_server, imap_user, monkeypatch)


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_fetch_mail_fetches_the_named_mailbox_and_says_what_it_stored(imap_server, mailbox):
    imap_server.append_many(mailbox.username, [message("A"), message("B")])
    out = run("fetch_mail", "--mailbox", mailbox.name)
    assert f"{mailbox.name}: 2 fetched, 2 stored, 0 already stored" in out
    assert "0 fetched, 0 stored" in run("fetch_mail", "--mailbox", mailbox.name)


def test_fetch_mail_names_what_it_could_not_fetch(mailbox, monkeypatch):
    monkeypatch.delenv(mailbox.password_env)
    with pytest.raises(CommandError, match=f"Could not fetch: {mailbox.name}"):
        run("fetch_mail")
    with pytest.raises(CommandError, match="No mailbox is named 'nope'"):
        run("fetch_mail", "--mailbox", "nope")


def test_import_mail_reads_eml_and_mbox_files_once(tmp_path, mailbox):
    single = tmp_path / "one.eml"
    single.write_bytes(message("Single"))
    archive = tmp_path / "old.mbox"
    box = mbox_format.mbox(archive)
    for subject in ("Old 1", "Old 2", "Old 3"):
        box.add(message(subject))
    box.close()

    out = run("import_mail", "--mailbox", mailbox.name, str(single), str(archive))
    assert "4 stored, 0 duplicates" in out and "(4 messages read)" in out
    rows = InboundEmail.objects.filter(mailbox=mailbox)
    assert sorted(rows.values_list("subject", flat=True)) == ["Old 1", "Old 2", "Old 3", "Single"]
    assert all(status in HANDLED for status in rows.values_list("status", flat=True))
    quarantined = rows.filter(status="quarantined").count()
    assert f"{quarantined} quarantined" in out
    assert "0 stored, 4 duplicates" in run(
        "import_mail", "--mailbox", mailbox.name, str(archive), str(single)
    )


def test_import_mail_refuses_a_missing_file_before_storing_anything(tmp_path, mailbox):
    good = tmp_path / "good.eml"
    good.write_bytes(message())
    with pytest.raises(CommandError, match="missing.eml: No such file"):
        run("import_mail", "--mailbox", mailbox.name, str(good), str(tmp_path / "missing.eml"))
    with pytest.raises(CommandError, match="Is a directory"):
        run("import_mail", "--mailbox", mailbox.name, str(tmp_path))
    assert not InboundEmail.objects.exists()


def test_the_beat_task_polls_active_mailboxes_only_and_records_its_run(
    db, imap_server, imap_user, monkeypatch, mailbox
):
    imap_server.append(mailbox.username, message())
    other = mailbox_on(imap_server, imap_user, monkeypatch)
    Mailbox.objects.filter(pk=other.pk).update(is_active=False)

    assert poll_mailboxes.delay().get() == {"mailboxes": 1, "swept": 0}

    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 1
    assert not InboundEmail.objects.filter(mailbox=other).exists()
    assert Mailbox.objects.get(pk=other.pk).last_polled_at is None
    run_record = PeriodicTaskRun.objects.get(task="integrations.tasks.poll_mailboxes")
    assert run_record.outcome == "succeeded"


def test_the_sweep_processes_messages_a_killed_worker_left_received(mailbox, settings):
    def stored(age: timedelta) -> InboundEmail:
        raw = message(f"Left {age}")
        inbound = InboundEmail(mailbox=mailbox, message_key=f"k{age}", size=len(raw))
        inbound.raw.save("message.eml", ContentFile(raw), save=False)
        inbound.received_at = timezone.now() - age
        inbound.save()
        return inbound

    old = stored(timedelta(seconds=settings.CRM_RUN_STALE_SECONDS + 5))
    fresh = stored(timedelta(seconds=1))  # perhaps still in a worker's hands

    assert poll_mailboxes.delay().get()["swept"] == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status in HANDLED and old.subject.startswith("Left") and old.attempts == 1
    assert fresh.status == "received"
