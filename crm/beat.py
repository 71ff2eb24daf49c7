"""The periodic jobs Celery beat sends (`celery -A crm beat`): CELERY_BEAT_SCHEDULE, every
entry in one place. crm/settings.py builds it from the intervals it reads from the
environment (README: Configuration), so the settings keep their names and defaults.
"""

from datetime import timedelta
from typing import Any

from celery.schedules import crontab


def beat_schedule(
    *,
    sweep_seconds: int,
    sla_escalation_minutes: int,
    duplicates_refresh_minutes: int,
    segments_hour: int,
    mail_poll_seconds: int,
) -> dict[str, dict[str, Any]]:
    """Each entry's task and when beat sends it (the arguments are the CRM_* settings)."""
    sweep = timedelta(seconds=sweep_seconds)
    return {
        # Service desk: escalates tickets past their SLA targets.
        "escalate-tickets": {
            "task": "service.tasks.escalate_tickets",
            "schedule": timedelta(minutes=sla_escalation_minutes),
        },
        # Re-queues campaign sends a stopped worker left claimed, and due retries.
        "marketing-sweep-sending": {"task": "marketing.tasks.sweep_sending", "schedule": sweep},
        # Sends scheduled campaigns whose time has come (marketing.services.scheduling).
        "marketing-send-scheduled": {"task": "marketing.tasks.send_scheduled", "schedule": sweep},
        # Picks the winners of subject-line tests whose wait is over (marketing.services.subject_tests).
        "marketing-decide-subject-tests": {
            "task": "marketing.tasks.decide_subject_tests",
            "schedule": sweep,
        },
        # Fails segment runs whose worker stopped (no heartbeat) or never started them.
        "analytics-sweep-runs": {"task": "analytics.tasks.sweep_runs", "schedule": sweep},
        # Publishes again customer imports queued while the broker was down; empties files
        # left waiting past CRM_IMPORT_KEEP_DAYS.
        "customers-sweep-imports": {
            "task": "customers.tasks.sweep_imports",
            "schedule": timedelta(minutes=1),
        },
        # Empties order files left waiting for confirmation (they name customers).
        "sales-sweep-imports": {
            "task": "sales.tasks.sweep_order_imports",
            "schedule": timedelta(hours=1),
        },
        # Delivers due outbox messages (retries) and releases claims of a worker that died.
        "core-sweep-outbox": {"task": "core.tasks.sweep_outbox", "schedule": sweep},
        # Delivers due webhook deliveries (retries) and releases claims of a worker that died.
        "integrations-sweep-webhooks": {
            "task": "integrations.tasks.sweep_webhooks",
            "schedule": sweep,
        },
        # Deletes export files not downloaded in time; fails or re-queues stuck export jobs.
        "core-sweep-export-files": {
            "task": "core.tasks.sweep_export_files",
            "schedule": timedelta(minutes=5),
        },
        # Finds the possible duplicate customers again (customers.duplicate_refresh): the page
        # reads the stored pairs, since the search takes seconds on a large table.
        "customers-refresh-duplicates": {
            "task": "customers.tasks.refresh_duplicates",
            "schedule": timedelta(minutes=duplicates_refresh_minutes),
        },
        "nightly-segments": {
            "task": "analytics.tasks.nightly_segments",
            "schedule": crontab(hour=segments_hour, minute=0),
        },
        # Catch up on missed loyalty points and coupons, then re-tier every account (spend
        # leaves the 12-month window every day).
        "nightly-loyalty": {
            "task": "marketing.tasks.nightly_loyalty",
            "schedule": crontab(hour=segments_hour, minute=30),
        },
        # Unconfirmed lead form submissions are a stranger's typing: gone once the link expires.
        "nightly-lead-purge": {
            "task": "marketing.tasks.purge_lead_submissions",
            "schedule": crontab(hour=segments_hour, minute=45),
        },
        # Beat's heartbeat for /readyz (crm/lib/readiness.py): every minute, or with the
        # sweeps when they run more often (a Redis restarted empty has lost the last tick:
        # /readyz is red until the next one).
        "beat-tick": {
            "task": "crm.tasks.beat_tick",
            "schedule": timedelta(seconds=min(60, sweep_seconds)),
        },
        # The daily email of notifications users chose to read as a digest (core.notifications).
        "core-notification-digests": {
            "task": "core.tasks.send_notification_digests",
            "schedule": crontab(hour=7, minute=0),
        },
        # Task reminders whose time has come become notifications (customers.reminders).
        "customers-task-reminders": {
            "task": "customers.tasks.send_task_reminders",
            "schedule": timedelta(minutes=1),
        },
        # Used submit tokens and API idempotency keys older than CRM_IDEMPOTENCY_KEY_HOURS.
        "core-purge-idempotency-keys": {
            "task": "core.tasks.purge_idempotency_keys",
            "schedule": timedelta(hours=1),
        },
        # Polls each active mailbox (integrations.tasks); also processes again messages a
        # killed worker left stored but unprocessed.
        "integrations-poll-mailboxes": {
            "task": "integrations.tasks.poll_mailboxes",
            "schedule": timedelta(seconds=mail_poll_seconds),
        },
    }
