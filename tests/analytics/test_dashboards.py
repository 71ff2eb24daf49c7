"""Dashboard figures on small hand-built data sets, and CSV exports equal to the tables."""

import csv
import io
from datetime import datetime
from html.parser import HTMLParser


class _TableParser(HTMLParser):
    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.depth = table_id, 0
        self.rows: list[list[str]] = []
        self.cell: str | None = None  # the text of the open cell

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.depth = 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join(self.cell.split()))
            self.cell = None
        elif self.depth and tag == "table":
            self.depth = 0

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


USD = " USD"  # (a no-break space, normalised) segment and value amounts are in the reporting currency (CRM_CURRENCY)


def page_table(response, name: str) -> list[list[str]]:
    """The rows (header first) of the dashboard table `name` as shown."""
    parser = _TableParser(f"table-{name}")
    parser.feed(response.content.decode())
    return parser.rows


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def plain(text: str) -> str:
    """A shown figure as the CSV writes it: English separators, signs, the reporting
    currency and dates undone."""
    text = text.removesuffix(USD)
    for shown, exported in (("%m/%d/%Y", "%Y-%m-%d"), ("%B %Y", "%Y-%m")):
        try:
            return datetime.strptime(text, shown).strftime(exported)
        except ValueError:
            pass
    return text.replace(",", "").replace("%", "").replace("—", "")


# --- the tests --------------------------------------------------------------------------

from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

import pytest  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from analytics.models import SegmentMigration, SegmentSummary  # noqa: E402
from customers.models import Task  # noqa: E402
from sales.models import Deal, Stage  # noqa: E402
from tests.factories import (  # noqa: E402
    CustomerFactory,
    CustomerValueFactory,
    DealFactory,
    OrderFactory,
    SatisfactionResponseFactory,
    SegmentRunFactory,
    TicketFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def empty_cache():
    """Reports cache per run and per day; each test starts from an empty cache."""
    cache.clear()


REVENUES = [1000, 500, 200, 100, 50, 50, 40, 30, 20, 10]  # 2,000 in all


def assert_csv_equals_table(client, url, name):
    shown = page_table(client.get(url), name)
    exported = csv_rows(client.get(url, {"export": name}))
    assert shown and len(shown) == len(exported)
    assert exported[0] == shown[0]  # the headers
    for shown_row, exported_row in zip(shown[1:], exported[1:], strict=True):
        assert [plain(cell) for cell in shown_row] == exported_row


@pytest.fixture
def value_run(db):
    """Ten customers with known revenue; the two largest are cannot-lose customers."""
    run = SegmentRunFactory(customers=10)
    owner = UserFactory(username="owner")
    for index, revenue in enumerate(REVENUES):
        CustomerValueFactory(
            run=run,
            customer=CustomerFactory(name=f"C{index}", owner=owner if index != 1 else None),
            revenue=Decimal(revenue),
            predicted_ltv=Decimal(index * 10),  # 0, 10, ... 90
            segment="cannot_lose" if index < 2 else "loyal",
            m_score=5 if index < 3 else 2,
            probability_alive=0.4 if index == 2 else 0.9,
        )
    return run


def test_segments_table_and_migration_matrix(manager_client):
    previous = SegmentRunFactory(is_current=False, as_of=timezone.localdate() - timedelta(days=30))
    run = SegmentRunFactory(customers=4)
    SegmentSummary.objects.create(run=previous, segment="loyal", customers=5, revenue=100,
                                  average_ltv=10)  # fmt: skip
    SegmentSummary.objects.create(run=run, segment="champions", customers=1, revenue=600,
                                  average_ltv=300)  # fmt: skip
    SegmentSummary.objects.create(run=run, segment="loyal", customers=3, revenue=400,
                                  average_ltv=Decimal("50.50"))  # fmt: skip
    SegmentMigration.objects.create(run=run, from_segment="loyal", to_segment="champions",
                                    customers=1)  # fmt: skip
    SegmentMigration.objects.create(run=run, from_segment="", to_segment="loyal", customers=3)
    url = reverse("analytics:segments")
    response = manager_client.get(url)
    assert response.status_code == 200
    rows = page_table(response, "segments")
    assert rows[1] == ["Champions", "1", "25.0%", f"600.00{USD}", "60.0%", f"300.00{USD}"]
    assert rows[2] == ["Loyal", "3", "75.0%", f"400.00{USD}", "40.0%", f"50.50{USD}"]
    assert f'href="{reverse("customers:customer-list")}?segment=champions"' in response.text
    matrix = page_table(response, "migration")
    assert matrix[1] == ["Loyal", "1", "0", "1"]
    assert matrix[2] == ["Not in the last run", "0", "3", "3"]
    trend = page_table(response, "trend")
    assert [row[1:] for row in trend[1:]] == [["0", "5"], ["1", "3"]]  # oldest run first
    for name in ("segments", "migration", "trend"):
        assert_csv_equals_table(manager_client, url, name)


def test_the_new_segment_and_customers_new_to_the_runs_are_two_rows_with_two_names(
    manager_client,
):
    """The migration table showed "New" twice (issue 16): the New segment's row and the
    row of customers the previous run did not have."""
    SegmentRunFactory(is_current=False, as_of=timezone.localdate() - timedelta(days=30))
    run = SegmentRunFactory(customers=3)
    SegmentMigration.objects.create(run=run, from_segment="new", to_segment="loyal", customers=1)
    SegmentMigration.objects.create(run=run, from_segment="", to_segment="new", customers=2)
    labels = [
        row[0]
        for row in page_table(manager_client.get(reverse("analytics:segments")), "migration")[1:]
    ]
    assert len(labels) == len(set(labels)) == 2


def test_pareto_share_histogram_and_cannot_lose(manager_client, value_run):
    url = reverse("analytics:value")
    response = manager_client.get(url)
    # The top 20% (2 of 10) bring (1,000 + 500) / 2,000 = 75% of revenue.
    assert "The top 20% of customers bring 75.0% of revenue." in response.text
    pareto = page_table(response, "pareto")
    assert pareto[1] == ["10.0%", "50.0%"] and pareto[2] == ["20.0%", "75.0%"]
    assert pareto[-1] == ["100.0%", "100.0%"]
    histogram = page_table(response, "ltv")
    assert len(histogram) == 21 and sum(int(row[2]) for row in histogram[1:]) == 10
    assert (
        histogram[1] == [f"0.00{USD}", f"4.50{USD}", "1"] and histogram[-1][2] == "1"
    )  # 90 on the edge
    # Cannot lose: segment cannot_lose (C0, C1) and C2 (M 5, 40% alive), by predicted value.
    names = [row[0] for row in page_table(response, "cannot-lose")[1:]]
    assert names == ["C2", "C1", "C0"]
    for name in ("pareto", "ltv", "cannot-lose"):
        assert_csv_equals_table(manager_client, url, name)


def test_cannot_lose_tasks_skip_ownerless_and_existing(manager_client, manager, value_run):
    url = reverse("analytics:cannot-lose-tasks")
    response = manager_client.post(url, follow=True)
    assert "Created 2 tasks; skipped 1." in response.text  # C1 has no owner
    tasks = Task.objects.filter(assignee__username="owner")
    assert tasks.count() == 2 and {t.customer.name for t in tasks} == {"C0", "C2"}
    assert all(task.created_by == manager for task in tasks)
    response = manager_client.post(url, follow=True)
    assert "Created 0 tasks; skipped 3." in response.text  # the open tasks exist
    assert manager_client.get(url).status_code == 405


def _won(owner, days, closed_days_ago=1, amount=1000):
    now = timezone.now()
    return DealFactory(
        owner=owner, status=Deal.Status.WON, stage=Stage.objects.get(is_won=True,
        pipeline__is_default=True), amount=Decimal(amount),
        created_at=now - timedelta(days=closed_days_ago + days),
        closed_at=now - timedelta(days=closed_days_ago),
    )  # fmt: skip


def test_pipeline_win_rate_cycle_time_and_sales(manager_client, rep, rep2):
    _won(rep, 10), _won(rep, 20), _won(rep2, 30, amount=500)
    DealFactory(owner=rep2, status=Deal.Status.LOST, closed_at=timezone.now(),
                stage=Stage.objects.get(is_lost=True, pipeline__is_default=True))  # fmt: skip
    _won(rep, 5, closed_days_ago=200)  # outside the last 90 days
    DealFactory(owner=rep, amount=Decimal("700.00"))  # open, first stage
    OrderFactory(total=Decimal("123.45"))
    url = reverse("analytics:pipeline")
    response = manager_client.get(url)
    assert response.status_code == 200
    assert "75.0%" in response.text  # 3 won / (3 won + 1 lost)
    assert '<div class="fs-5 fw-semibold" id="cycle-days">20.0</div>' in response.text
    funnel = page_table(response, "funnel")
    assert funnel[1] == ["Qualification", "1", "700.00"]  # deals created in the period
    assert ["Won", "3", "2,500.00"] in funnel
    reps = {row[0]: row for row in page_table(response, "reps")[1:]}
    assert reps["rep"][1:] == ["1", "700.00", "2", "2,000.00", "0", "100.0%"]
    assert reps["rep2"][1:] == ["0", "0.00", "1", "500.00", "1", "50.0%"]
    months = page_table(response, "sales-by-month")
    assert len(months) == 13 and months[-1][1] == "123.45"
    response = manager_client.get(url, {"period": "12m"})
    assert "80.0%" in response.text  # the older win counts in the last 12 months
    for name in ("funnel", "sales-by-month", "reps"):
        assert_csv_equals_table(manager_client, url, name)


def test_service_sla_compliance_and_csat(manager_client, agent):
    now = timezone.now()
    due = now - timedelta(hours=1)
    hour = timedelta(hours=1)
    for answered, resolved in ((due - hour, due - hour), (due, due + hour), (due - hour, None),
                               (due + hour, due + hour)):  # fmt: skip
        TicketFactory(first_response_due=due, first_responded_at=answered,
                      resolution_due=due, resolved_at=resolved, assignee=agent)  # fmt: skip
    TicketFactory(first_response_due=now + hour)  # not yet due: neither met nor breached
    for category, score in (("question", 5), ("question", 4), ("complaint", 2)):
        SatisfactionResponseFactory(ticket__category=category, ticket__assignee=agent, score=score)
    url = reverse("analytics:service")
    response = manager_client.get(url)
    # First response: 3 met, 1 late = 75%; resolution: 1 met, 3 late (one unresolved) = 25%.
    assert 'id="first-response-compliance">75.0%' in response.text
    assert 'id="resolution-compliance">25.0%' in response.text
    by_category = {row[0]: row for row in page_table(response, "csat-category")[1:]}
    assert by_category["Question"][1:] == ["4.50", "2"]
    assert by_category["Complaint"][1:] == ["2.00", "1"]
    assert page_table(response, "csat-agent")[1] == ["agent", "3.67", "3"]
    volume = page_table(response, "volume")
    created = volume[0].index("Created")
    assert sum(int(row[created]) for row in volume[1:]) == 8
    for name in ("volume", "sla", "csat-category", "csat-agent", "agents"):
        assert_csv_equals_table(manager_client, url, name)


def test_csv_neutralises_formulas(manager_client):
    run = SegmentRunFactory()
    CustomerValueFactory(run=run, customer=CustomerFactory(name="=HYPERLINK(1)"),
                         segment="cannot_lose")  # fmt: skip
    rows = csv_rows(manager_client.get(reverse("analytics:value"), {"export": "cannot-lose"}))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_empty_states(manager_client):
    response = manager_client.get(reverse("analytics:segments"))
    assert "No segment run yet" in response.text
    assert "No segment run yet" in manager_client.get(reverse("analytics:value")).text
    response = manager_client.get(reverse("analytics:service"))
    assert response.status_code == 200 and "No tickets in this period." in response.text


def test_figures_follow_the_language(manager_client, value_run):
    SegmentSummary.objects.create(run=value_run, segment="loyal", customers=1234, revenue=1,
                                  average_ltv=Decimal("1234.5"))  # fmt: skip
    response = manager_client.get(reverse("analytics:segments"))
    assert page_table(response, "segments")[1][1:] == ["1,234", "100.0%", f"1.00{USD}", "100.0%",
                                                       f"1,234.50{USD}"]  # fmt: skip
    manager_client.cookies["django_language"] = "zh-hans"
    response = manager_client.get(reverse("analytics:segments"))
    assert response.status_code == 200 and '<html lang="zh-hans">' in response.text
    # Numbers grouped by thousands as in English (crm/formats), dates as 2026年11月22日.
    assert page_table(response, "segments")[1][1] == "1,234"
    as_of = value_run.as_of
    assert page_table(response, "trend")[1][0] == f"{as_of.year}年{as_of.month}月{as_of.day}日"


def test_cannot_lose_tasks_continue_down_a_long_list(manager_client, value_run, monkeypatch):
    from analytics.views import value

    monkeypatch.setattr(value, "MAX_TASKS", 1)  # a long list, in two presses
    url = reverse("analytics:cannot-lose-tasks")
    assert "Created 1 tasks; skipped 0." in manager_client.post(url, follow=True).text  # C2
    # C2 has its task now and C1 no owner: both skipped; C0 gets the next one.
    assert "Created 1 tasks; skipped 2." in manager_client.post(url, follow=True).text
    assert Task.objects.count() == 2


def test_pareto_with_more_customers_than_points(manager_client):
    """253 customers (not a multiple of 100), with ties: the share computed by hand."""
    run = SegmentRunFactory()
    revenues = [(n * 37) % 101 + 1 for n in range(253)]
    for revenue in revenues:
        CustomerValueFactory(run=run, revenue=Decimal(revenue))
    top = sorted(revenues, reverse=True)[: 253 // 5]
    expected = f"{round(100 * sum(top) / sum(revenues), 1):.1f}%"
    response = manager_client.get(reverse("analytics:value"))
    assert f"bring {expected} of revenue" in response.text
    assert page_table(response, "pareto")[-1] == ["100.0%", "100.0%"]


def test_cannot_lose_list_reads_its_partial_index_in_order(postgres, value_run):
    """The first page is the first 25 entries of the partial index (its condition is the
    list's, analytics.models.CANNOT_LOSE): no scan and sort of the whole run."""
    from django.db import connection

    from analytics import reports

    queryset = reports.cannot_lose(value_run).select_related(None)[:25]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "analytics_cv_cannot_lose" in plan and "Sort" not in plan, plan


def test_service_report_shows_every_week_medians_backlog_and_agents_by_name(manager_client):
    """Issue 17: a week without tickets was a gap; no medians, backlog or agent output."""
    from tests.factories import TicketMessageFactory, UserFactory

    agent = UserFactory(username="ali", first_name="Ana", last_name="Li")
    at = lambda day, hour=10: timezone.make_aware(datetime(2026, 6, day, hour))  # noqa: E731
    hours = timedelta(hours=1)
    # Week of 1 June: two tickets answered after 2 h and 4 h, one resolved in week 3.
    first = TicketFactory(created_at=at(2), first_responded_at=at(2) + 2 * hours,
                          resolved_at=at(16), assignee=agent)  # fmt: skip
    TicketFactory(created_at=at(3), first_responded_at=at(3) + 4 * hours, assignee=agent)
    # Week of 15 June: one ticket; the weeks of 8 and 22 June have none.
    TicketFactory(created_at=at(17), category="complaint")
    TicketMessageFactory(ticket=first, author=agent, created_at=at(2, 12))
    url = reverse("analytics:service")
    response = manager_client.get(
        url, {"period": "custom", "from": "2026-06-01", "to": "2026-06-28"}
    )

    volume = page_table(response, "volume")
    header, rows = volume[0], volume[1:]
    column = {name: header.index(name) for name in header}
    assert [row[0] for row in rows] == ["06/01/2026", "06/08/2026", "06/15/2026", "06/22/2026"]
    assert [row[column["Created"]] for row in rows] == ["2", "0", "1", "0"]
    assert [row[column["Resolved"]] for row in rows] == ["0", "0", "1", "0"]
    assert [row[column["Open at week end"]] for row in rows] == ["2", "2", "2", "2"]
    assert rows[0][column["First reply, median hours"]] == "3.0"
    assert rows[1][column["First reply, median hours"]] == "—"
    assert rows[0][column["Resolution, median hours"]] == "336.0"  # 2 June to 16 June
    agents = page_table(response, "agents")
    assert agents[1] == ["Ana Li", "1", "1", "3.0"]
    assert "chart-backlog" in response.text and "chart-medians" in response.text
