"""CPU per 360° page request and per timeline_page call (issue 18), read-only on a loaded
database (crm_bench_load): nothing is written, not even a session or a login's audit row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_load SECRET_KEY=test-only-secret-key \\
    DEBUG=0 SECURE_COOKIES=0 CRM_DEVTOOLS=1 CRM_REQUIRE_2FA_ROLES= \\
    .venv/bin/python manage.py shell < devtools/timeline_cpu.py

60 requests after 5 warm-ups, random customers (seed 18) owned by the user "rep".
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

with connection.cursor() as cursor:  # any write fails instead of touching the database
    cursor.execute("SET SESSION default_transaction_read_only = on")
user_logged_in.receivers = []  # no last_login, audit or axes rows on force_login
user_logged_in.sender_receivers_cache.clear()
with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
    rep = User.objects.get(username="rep")
    client = logged_in_client(rep)
    ids = list(Customer.objects.filter(owner=rep).order_by("pk").values_list("pk", flat=True))
    rng = random.Random(18)
    customers = [Customer.objects.get(pk=rng.choice(ids)) for _ in range(65)]
    for customer in customers[:5]:
        get_ok(client, customer.get_absolute_url())
    cpu, queries = [], []
    for customer in customers[5:]:
        with CaptureQueriesContext(connection) as captured:
            started = time.process_time()
            get_ok(client, customer.get_absolute_url())
            cpu.append(time.process_time() - started)
        queries.append(len(captured))
    print(f"360° page, {len(ids)} customers of rep: CPU ms/request mean "
          f"{1000 * statistics.mean(cpu):.1f} median {1000 * statistics.median(cpu):.1f}; "
          f"queries {min(queries)}-{max(queries)}")  # fmt: skip
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for customer in customers[5:]:
            timeline_page(rep, customer)
        rounds.append((time.process_time() - started) / 60 * 1000)
    print(f"timeline_page alone: CPU ms/call median of 5 rounds {statistics.median(rounds):.2f}")
