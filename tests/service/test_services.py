"""Ticket services: SLA clock, conversation, status rules, bulk changes, CSAT."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from crm.lib.concurrency import ConcurrentEditError
from service import selectors, services
from service.models import SatisfactionResponse, SLAPolicy, Team, Ticket, TicketMessage
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    SatisfactionResponseFactory,
    TicketFactory,
    UserFactory,
)
from tests.helpers import run_in_threads

# A Wednesday, in UTC (the test settings' TIME_ZONE).
T0 = datetime(2025, 6, 4, 10, 0, tzinfo=UTC)


def make(priority="urgent", now=T0, **kwargs) -> Ticket:
    kwargs.setdefault("customer", CustomerFactory())
    return services.ticket_create(
        subject="Printer on fire",
        description="Smoke everywhere",
        channel=Ticket.Channel.PHONE,
        priority=priority,
        now=now,
        **kwargs,
    )


def update(ticket, *, user=None, **changes) -> Ticket:
    ticket.refresh_from_db()
    return services.ticket_update(
        ticket=ticket, user=user, expected_version=ticket.version, **changes
    )


@pytest.mark.django_db
class TestCreate:
    def test_due_times_from_the_priority_policy_and_default_team(self):
        ticket = make("urgent")  # 30 min / 4 h, around the clock
        assert ticket.first_response_due == T0 + timedelta(minutes=30)
        assert ticket.resolution_due == T0 + timedelta(hours=4)
        assert ticket.first_response_at_risk_at == T0 + timedelta(minutes=23)  # ceil(22.5)
        assert ticket.team == Team.objects.get(name="Support")
        assert ticket.status == Ticket.Status.NEW

    def test_business_hours_policy_skips_the_night_and_weekend(self):
        friday_5pm = datetime(2025, 6, 6, 17, 0, tzinfo=UTC)
        ticket = make("normal", now=friday_5pm)  # 4 business hours, 09:00-18:00
        assert ticket.first_response_due == datetime(2025, 6, 9, 12, 0, tzinfo=UTC)

    def test_no_policy_means_no_due_times(self):
        SLAPolicy.objects.filter(priority="low").delete()
        ticket = make("low")
        assert ticket.first_response_due is None and ticket.resolution_due is None

    def test_contact_of_another_customer_is_refused(self):
        with pytest.raises(ValidationError) as error:
            make(contact=ContactFactory())
        assert "contact" in error.value.error_dict


@pytest.mark.django_db
class TestSlaClock:
    def test_waiting_pauses_and_resuming_shifts_the_due_times(self):
        ticket = make("urgent")
        update(ticket, status=Ticket.Status.WAITING, now=T0 + timedelta(minutes=10))
        ticket.refresh_from_db()
        assert ticket.sla_paused_at == T0 + timedelta(minutes=10)
        update(ticket, status=Ticket.Status.OPEN, now=T0 + timedelta(minutes=70))
        ticket.refresh_from_db()
        assert ticket.sla_paused_at is None
        assert ticket.sla_paused_minutes == 60
        assert ticket.first_response_due == T0 + timedelta(minutes=90)
        assert ticket.resolution_due == T0 + timedelta(hours=5)

    def test_pause_counts_business_minutes_only(self):
        friday_5pm = datetime(2025, 6, 6, 17, 0, tzinfo=UTC)
        ticket = make("normal", now=friday_5pm)
        update(ticket, status=Ticket.Status.WAITING, now=friday_5pm + timedelta(minutes=30))
        # Back on Monday 09:30: Friday 17:30-18:00 and Monday 09:00-09:30 count, the weekend not.
        update(ticket, status=Ticket.Status.OPEN, now=datetime(2025, 6, 9, 9, 30, tzinfo=UTC))
        ticket.refresh_from_db()
        assert ticket.sla_paused_minutes == 60
        assert ticket.first_response_due == datetime(2025, 6, 9, 13, 0, tzinfo=UTC)

    def test_paused_ticket_is_never_flagged(self):
        ticket = make("urgent")
        update(ticket, status=Ticket.Status.WAITING, now=T0 + timedelta(minutes=1))
        late = T0 + timedelta(days=2)
        flagged = selectors.with_sla_flags(Ticket.objects.all(), now=late).get()
        assert not (flagged.first_response_breached or flagged.resolution_breached)
        assert not flagged.at_risk

    def test_priority_change_recomputes_from_creation_minus_pause(self):
        ticket = make("urgent")
        update(ticket, status=Ticket.Status.WAITING, now=T0 + timedelta(minutes=5))
        update(ticket, status=Ticket.Status.OPEN, now=T0 + timedelta(minutes=25))
        update(ticket, priority="high", now=T0 + timedelta(minutes=30))  # 2 h / 24 h
        ticket.refresh_from_db()
        assert ticket.first_response_due == T0 + timedelta(minutes=140)
        assert ticket.resolution_due == T0 + timedelta(hours=24, minutes=20)

    def test_priority_change_keeps_a_given_first_response_target(self):
        ticket = make("urgent")
        services.ticket_reply(
            ticket=ticket, author=UserFactory(), body="On it", internal=False, now=T0
        )
        update(ticket, priority="low")
        ticket.refresh_from_db()
        assert ticket.first_response_due == T0 + timedelta(minutes=30)
        assert ticket.resolution_due != T0 + timedelta(hours=4)

    def test_flags(self):
        ticket = make("urgent")
        rows = lambda now: selectors.with_sla_flags(Ticket.objects.all(), now=now).get()  # noqa: E731
        fresh = rows(T0 + timedelta(minutes=5))
        assert (fresh.at_risk, fresh.first_response_breached) == (False, False)
        assert rows(T0 + timedelta(minutes=25)).at_risk
        late = rows(T0 + timedelta(minutes=31))
        assert late.first_response_breached and not late.at_risk
        assert not late.resolution_breached
        assert rows(T0 + timedelta(hours=5)).resolution_breached
        del ticket


@pytest.mark.django_db
class TestConversation:
    def test_first_public_reply_opens_and_is_emailed_after_commit(
        self, agent, django_capture_on_commit_callbacks
    ):
        ticket = make()
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_reply(
                ticket=ticket, author=agent, body="We are on it", internal=False, now=T0
            )
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN
        assert ticket.first_responded_at == T0
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [ticket.customer.email]
        assert "We are on it" in mail.outbox[0].body

    def test_internal_note_is_never_emailed_nor_shown_to_the_customer(
        self, agent, django_capture_on_commit_callbacks
    ):
        ticket = make()
        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_reply(ticket=ticket, author=agent, body="SECRET", internal=True)
        ticket.refresh_from_db()
        assert mail.outbox == []
        assert ticket.status == Ticket.Status.NEW and ticket.first_responded_at is None
        public = selectors.ticket_conversation(ticket, include_internal=False)
        assert all("SECRET" not in m.body for m in public)
        assert [m.body for m in selectors.ticket_conversation(ticket, include_internal=True)] == [
            "SECRET"
        ]

    def test_customer_reply_resumes_waiting_and_reopens_resolved(self):
        ticket = make()
        update(ticket, status=Ticket.Status.WAITING, now=T0 + timedelta(minutes=5))
        services.ticket_customer_reply(ticket=ticket, body="Here", now=T0 + timedelta(minutes=15))
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN and ticket.sla_paused_minutes == 10
        update(ticket, status=Ticket.Status.RESOLVED)
        services.ticket_customer_reply(ticket=ticket, body="Still broken")
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN and ticket.resolved_at is None
        message = ticket.messages.last()
        assert message.from_customer and message.author is None

    def test_closed_ticket_refuses_customer_replies(self):
        ticket = make()
        update(ticket, status=Ticket.Status.CLOSED)
        with pytest.raises(ValidationError, match="closed"):
            services.ticket_customer_reply(ticket=ticket, body="Hello?")

    def test_public_submission_matches_the_oldest_customer_case_insensitively(
        self, django_capture_on_commit_callbacks
    ):
        oldest = CustomerFactory(email="Ann@Example.com")
        CustomerFactory(email="ann@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            ticket = services.ticket_submit_public(
                email="ANN@example.COM",
                name="Ann",
                subject="Help",
                description="It broke",
                category=Ticket.Category.INCIDENT,
            )
        assert ticket.customer == oldest
        assert ticket.channel == Ticket.Channel.WEB
        first = ticket.messages.get()
        assert first.from_customer and first.body == "It broke"
        assert len(mail.outbox) == 1 and "/help/tickets/" in mail.outbox[0].body

    def test_public_submission_from_an_unknown_address_is_a_requester(self):
        ticket = services.ticket_submit_public(
            email="new@example.com", name="Neo", subject="Hi", description="Q", category="question"
        )
        assert ticket.customer is None and ticket.sender_unverified
        assert (ticket.requester_name, ticket.requester_email) == ("Neo", "new@example.com")
        customer = services.ticket_customer_from_requester(ticket=ticket, user=None)
        assert (customer.name, customer.stage, customer.source, customer.kind) == (
            "Neo",
            "lead",
            "website",
            "person",
        )


@pytest.mark.django_db
class TestStatus:
    def test_complaint_needs_a_root_cause_to_be_resolved(self):
        ticket = make(category=Ticket.Category.COMPLAINT)
        with pytest.raises(ValidationError) as error:
            update(ticket, status=Ticket.Status.RESOLVED)
        assert "root_cause" in error.value.error_dict
        ticket = update(ticket, status=Ticket.Status.RESOLVED, root_cause="billing")
        assert ticket.status == Ticket.Status.RESOLVED and ticket.resolved_at

    def test_resolution_asks_for_a_rating_once_and_not_when_rated(
        self, django_capture_on_commit_callbacks
    ):
        ticket = make()
        with django_capture_on_commit_callbacks(execute=True):
            update(ticket, status=Ticket.Status.RESOLVED)
            update(ticket, status=Ticket.Status.RESOLVED)  # no change, no second email
        assert len(mail.outbox) == 1 and "/help/rate/" in mail.outbox[0].body
        update(ticket, status=Ticket.Status.OPEN)
        SatisfactionResponseFactory(ticket=ticket)
        with django_capture_on_commit_callbacks(execute=True):
            update(ticket, status=Ticket.Status.RESOLVED)
        assert len(mail.outbox) == 1

    def test_closing_sets_closed_at(self):
        ticket = update(make(), status=Ticket.Status.CLOSED, now=T0)
        assert ticket.closed_at == T0 and ticket.resolved_at == T0

    def test_stale_version_is_refused(self):
        ticket = make()
        services.ticket_update(ticket=ticket, user=None, expected_version=1, priority="high")
        with pytest.raises(ConcurrentEditError, match="Someone else"):
            services.ticket_update(ticket=ticket, user=None, expected_version=1, priority="low")

    def test_unassign_with_none_and_keep_by_default(self, agent):
        ticket = make(assignee=agent)
        assert update(ticket, priority="high").assignee == agent
        assert update(ticket, assignee=None).assignee is None

    def test_bulk_assign_and_bulk_status_skip_complaints(self, agent):
        plain = make()
        complaint = make(category=Ticket.Category.COMPLAINT)
        tickets = Ticket.objects.filter(pk__in=[plain.pk, complaint.pk])
        assert services.tickets_bulk_assign(user=agent, tickets=tickets, assignee=agent) == 2
        count, skipped = services.tickets_bulk_set_status(
            user=agent, tickets=tickets, status=Ticket.Status.RESOLVED
        )
        assert count == 1
        assert skipped == [complaint] and "root cause" in skipped[0].skip_reason
        plain.refresh_from_db()
        assert plain.status == Ticket.Status.RESOLVED and plain.assignee == agent


@pytest.mark.django_db
class TestSatisfaction:
    def test_only_resolved_tickets_once(self):
        ticket = make()
        with pytest.raises(ValidationError, match="resolved"):
            services.satisfaction_record(ticket=ticket, score=5, comment="")
        update(ticket, status=Ticket.Status.RESOLVED)
        ticket.refresh_from_db()
        services.satisfaction_record(ticket=ticket, score=4, comment="Fine")
        with pytest.raises(ValidationError, match="already"):
            services.satisfaction_record(ticket=ticket, score=1, comment="Again")
        assert SatisfactionResponse.objects.get().score == 4

    @pytest.mark.parametrize("score", [0, 6, -1])
    def test_score_out_of_range(self, score):
        ticket = TicketFactory(status=Ticket.Status.RESOLVED)
        with pytest.raises(ValidationError):
            services.satisfaction_record(ticket=ticket, score=score, comment="")


@pytest.mark.django_db
class TestSelectors:
    def test_reps_see_tickets_of_their_own_customers_only(self, rep, rep2, agent, nobody):
        mine = TicketFactory(customer=CustomerFactory(owner=rep))
        TicketFactory(customer=CustomerFactory(owner=rep2))
        assert list(selectors.tickets_visible_to(rep)) == [mine]
        assert selectors.tickets_visible_to(agent).count() == 2
        assert not selectors.tickets_visible_to(nobody).exists()
        assert not selectors.tickets_workable_by(rep).exists()
        assert not selectors.can_work_ticket(rep, mine)
        assert selectors.can_work_ticket(agent, mine)

    def test_customer_summary_in_two_queries(self, manager, django_assert_max_num_queries):
        manager.has_perm("service.view_any_ticket")  # the permissions, read once per request
        customer = CustomerFactory()
        TicketFactory(customer=customer)
        resolved = TicketFactory(customer=customer, status=Ticket.Status.RESOLVED)
        rated = TicketFactory(customer=customer, status=Ticket.Status.CLOSED)
        SatisfactionResponseFactory(ticket=resolved, score=4)
        SatisfactionResponseFactory(ticket=rated, score=5)
        with django_assert_max_num_queries(2):
            summary = selectors.customer_service_summary(customer, user=manager)
        assert summary["open_tickets"] == 1 and summary["past_tickets"] == 2
        assert summary["csat_average"] == 4.5

    def test_conversation_order(self, agent):
        ticket = make()
        services.ticket_reply(ticket=ticket, author=agent, body="b", internal=False, now=T0)
        TicketMessage.objects.create(ticket=ticket, body="a", created_at=T0 - timedelta(hours=1))
        bodies = [m.body for m in selectors.ticket_conversation(ticket, include_internal=False)]
        assert bodies == ["a", "b"]


@pytest.mark.django_db
def test_merging_customers_moves_their_tickets(manager):
    from customers.services import customers_merge

    kept, duplicate = CustomerFactory(), CustomerFactory()
    ticket = TicketFactory(customer=duplicate)
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    ticket.refresh_from_db()
    assert ticket.customer == kept


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [{"priority": "critical"}, {"status": "gone"}, {"category": "x" * 500}, {"root_cause": "\x00"}],
)
def test_impossible_values_are_refused(changes):
    ticket = make()
    with pytest.raises(ValidationError):
        update(ticket, **changes)
    ticket.refresh_from_db()
    assert ticket.version == 1


@pytest.mark.django_db
def test_a_late_resolution_stays_breached():
    ticket = make("urgent")
    update(ticket, status=Ticket.Status.RESOLVED, now=T0 + timedelta(hours=5))
    flagged = selectors.with_sla_flags(Ticket.objects.all(), now=T0 + timedelta(days=3)).get()
    assert flagged.resolution_breached and flagged.first_response_breached
    assert not flagged.at_risk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_ratings_keep_one_and_refuse_the_other(postgres):
    """Both may pass the "already rated" check; the unique constraint decides, and the loser
    gets the same readable ValidationError, never an IntegrityError."""
    import threading

    from django.db import connection

    ticket = TicketFactory(status=Ticket.Status.RESOLVED)
    outcomes, barrier = [], threading.Barrier(2)

    def rate(score):
        try:
            barrier.wait(timeout=10)
            services.satisfaction_record(ticket=ticket, score=score, comment="")
            outcomes.append("saved")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    run_in_threads(lambda: rate(2), lambda: rate(5), timeout=30)
    assert sorted(outcomes) == ["This request has already been rated. Thank you!", "saved"]
    assert SatisfactionResponse.objects.filter(ticket=ticket).count() == 1
