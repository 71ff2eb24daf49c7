"""CPU per request of the pages the load test's users open most (issue 18), and of
timeline_page alone, read-only on a loaded database (make bench-load's crm_bench_load):
nothing is written, not even a session or a login's audit row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_load SECRET_KEY=test-only-secret-key \\
    DEBUG=0 SECURE_COOKIES=0 CRM_DEVTOOLS=1 CRM_REQUIRE_2FA_ROLES= \\
    .venv/bin/python manage.py shell < devtools/page_cpu.py

Process time, not wall time: another load on the machine slows it much less. Each page:
60 requests after 5 warm-ups, as the load test's users ask them (random customers of the
user "rep", the first three pages of the agent's queue and their tickets; seed 18). "Page
chrome" is a signed-in 404: what every page pays around its content (sign-in, the
navigation bar).
"""

import random
import statistics
import time

from django.contrib.auth import user_logged_in
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from crm.lib.timeline import timeline_page
from customers.models import Customer
from devtools.bench import get_ok, logged_in_client
from service.models import Ticket

REQUESTS, WARMUP = 60, 5


def cpu_per_request(name, client, urls, status=200):
    for url in urls[:WARMUP]:
        get_ok(client, url, status)
    cpu, queries = [], []
    for url in urls[WARMUP:]:
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            get_ok(client, url, status)
            cpu.append(time.process_time() - started)
        queries.append(len(captured))
    print(f"{name:<14} CPU ms/request mean {1000 * statistics.mean(cpu):5.1f} "
          f"median {1000 * statistics.median(cpu):5.1f}; queries {min(queries)}-{max(queries)}")  # fmt: skip


with connection.cursor() as cursor:  # any write fails instead of touching the database
    cursor.execute("SET SESSION default_transaction_read_only = on")
user_logged_in.receivers = []  # no last_login, audit or axes rows on force_login
user_logged_in.sender_receivers_cache.clear()
with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
    rng = random.Random(18)
    rep, agent = User.objects.get(username="rep"), User.objects.get(username="agent")
    as_rep, as_agent = logged_in_client(rep), logged_in_client(agent)
    ids = list(Customer.objects.filter(owner=rep).order_by("pk").values_list("pk", flat=True))
    customers = [Customer.objects.get(pk=rng.choice(ids)) for _ in range(REQUESTS + WARMUP)]
    queue = [f"/service/tickets/?page={rng.randint(1, 3)}" for _ in customers]
    tickets = list(Ticket.objects.order_by("-created_at", "-pk")[:75])
    lists = ["/customers/?owner=me" if rng.random() < 0.7 else "/customers/" for _ in customers]
    cpu_per_request("page chrome", as_rep, ["/no-such-page/"] * len(customers), status=404)
    cpu_per_request("360° page", as_rep, [c.get_absolute_url() for c in customers])
    cpu_per_request("customer list", as_rep, lists)
    cpu_per_request("board", as_rep, ["/sales/board/"] * len(customers))
    cpu_per_request("ticket queue", as_agent, queue)
    cpu_per_request(
        "ticket page", as_agent, [rng.choice(tickets).get_absolute_url() for _ in customers]
    )
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for customer in customers[WARMUP:]:
            timeline_page(rep, customer)
        rounds.append((time.process_time() - started) / REQUESTS * 1000)
    print(f"timeline_page alone: CPU ms/call median of 5 rounds {statistics.median(rounds):.2f}")
