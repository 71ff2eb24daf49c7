"""The global search's deals and tickets can be answered from their indexes on PostgreSQL:
each word's branches (crm.lib.search.matching_any) use a trigram index or a foreign-key index,
where one OR across the customer join could use none and read every deal or ticket newest
first (180 ms at 100,000 deals in make bench, growing with the table). The planner is told not
to scan, so the test asks whether an index CAN answer the query at any size of table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sales.search import _deals
from service.search import _tickets
from tests.factories import CustomerFactory, DealFactory, TicketFactory


def _plan_of(search, user) -> str:
    with CaptureQueriesContext(connection) as captured:
        search(user, "watts grinder", 5)
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("search", "indexes"),
    [
        (_deals, ["deal_title_trgm"]),
        (_tickets, ["ticket_subject_trgm", "ticket_requester_name_trgm"]),
    ],
)
def test_each_word_is_found_through_the_indexes(postgres, manager, search, indexes):
    customer = CustomerFactory(name="Hazel Watts")
    DealFactory(customer=customer, title="Grinder for the shop")
    TicketFactory(customer=customer, subject="Grinder broken")
    plan = _plan_of(search, manager)
    for index in indexes:
        assert index in plan, plan
    for table in ("sales_deal", "service_ticket"):
        assert f"Seq Scan on {table}" not in plan, plan
