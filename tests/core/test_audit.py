"""The audit log: sign-ins are recorded by the auth signals; admins search and export it."""

import pytest
from django.urls import reverse

from core.audit import audit_record
from core.models import AuditEvent
from customers.models import Customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_sign_in_is_recorded_with_who_and_from_where(client, rep):
    rep.set_password("a long enough password")
    rep.save()
    client.post(
        reverse("login"),
        {"username": "rep", "password": "a long enough password"},
        REMOTE_ADDR="203.0.113.9",
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN)
    assert (event.actor, event.actor_name, event.ip_address) == (rep, "rep", "203.0.113.9")


def test_a_failed_sign_in_records_the_name_tried_and_never_the_password(client, rep):
    response = client.post(reverse("login"), {"username": "rep", "password": "wrong password"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert (event.actor, event.actor_name) == (None, "rep")
    assert "wrong password" not in str(event.detail) + event.actor_name


def test_detail_is_bounded_and_free_of_nul(rep):
    event = audit_record(
        AuditEvent.Action.EXPORT,
        actor=rep,
        target=Customer,
        rows=3,
        detail={"q": "a\x00b" + "x" * 5000, "fields": ["name"] * 500},
    )
    event.refresh_from_db()
    assert event.detail["q"].startswith("ab") and len(event.detail["q"]) == 500
    assert len(event.detail["fields"]) == 100
    assert (event.target_type, event.target_id, event.rows) == ("customers.customer", "", 3)


def test_admins_search_and_export_it_but_cannot_change_it(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    audit_record(AuditEvent.Action.MERGE, actor=admin, detail={"kept": 1})
    listing = client.get(reverse("admin:core_auditevent_changelist"), {"q": "root"})
    assert listing.status_code == 200 and b"Merge" in listing.content
    event = AuditEvent.objects.get(action=AuditEvent.Action.MERGE)
    assert (
        client.post(
            reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    exported = client.post(
        reverse("admin:core_auditevent_changelist"),
        {"action": "export_csv", "_selected_action": [event.pk]},
    )
    body = b"".join(exported.streaming_content).decode()
    assert "root" in body and "merge" in body
    # The export is itself audited.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_other_roles_cannot_open_it(manager_client):
    assert manager_client.get(reverse("admin:core_auditevent_changelist")).status_code in (
        302,
        403,
    )
