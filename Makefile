# Every target builds on `make install`. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1:8000
# Settings for local use; production sets its own environment (README: Configuration).
# CRM_DEVTOOLS=1 installs devtools/ (seed_demo, the bench_* commands); production leaves it off.
# CRM_REQUIRE_2FA_ROLES= : the demo's admin and manager sign in with the password alone
# (production requires two-factor sign-in of admins and managers; README: Configuration).
DEV_ENV := DEBUG=1 CRM_DEVTOOLS=1 CRM_REQUIRE_2FA_ROLES=
TEST_ENV := SECRET_KEY=test-only-secret-key DEBUG=0 SECURE_COOKIES=0 CRM_DEVTOOLS=1
# The benchmarks sign in as the demo's manager, who has no two-factor device.
BENCH_ENV := $(TEST_ENV) CRM_REQUIRE_2FA_ROLES=
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench
# Its own database: a million customers would slow down the other benchmarks' pages.
BENCH_ANALYTICS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench_analytics

.PHONY: install demo setup test lint bench bench-sales bench-orders bench-service bench-analytics bench-campaign-send bench-audience bench-load bench-api bench-webhooks bench-mail bench-duplicates screenshots lock messages clean

install: $(VENV)/.install-stamp

$(VENV)/.install-stamp: requirements.lock pyproject.toml
	@command -v msgfmt >/dev/null || { echo "Installing gettext (msgfmt) for translations"; apt-get install -y -qq gettext >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext; }; }
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock
	touch $@

# Compile the committed .po files (the .mo files are build output).
messages: install
	$(DEV_ENV) $(PY) manage.py compilemessages --ignore=.venv -v 0

setup: messages
	$(DEV_ENV) $(PY) manage.py migrate --noinput -v 0

demo: setup
	$(DEV_ENV) $(PY) manage.py seed_demo --if-empty
	@echo "Open http://$(HOST)/ and log in with one of the users above."
	$(DEV_ENV) $(PY) manage.py runserver $(HOST)

# Ruff, the migrations check, and mypy with django-stubs (its plugin loads the settings: TEST_ENV).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TEST_ENV) DATABASE_URL= $(PY) manage.py makemigrations --check --dry-run -v 0
	$(TEST_ENV) $(VENV)/bin/mypy

# The whole suite. DATABASE_URL / REDIS_URL select PostgreSQL and Redis (as .ci/run does).
test: messages lint
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

# Loads 100,000 customers and 1,000,000 interactions into PostgreSQL and prints server times.
bench: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_pages $(BENCH_ARGS)

# Loads 100,000 customers (no interactions) and prints the duplicates refresh time and the
# possible-duplicates page's p95, each beside its floor.
bench-duplicates: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_duplicates $(BENCH_ARGS)

# Loads 100,000 deals (then 1,000,000) beside make bench's customers and prints board, list,
# pipeline report and forecast times.
bench-sales: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_sales $(BENCH_ARGS)

# Screenshots of the main pages for README.md, taken by Chromium over the demo data.
screenshots: messages
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(TEST_ENV) $(PY) -m tests.browser.screenshots docs/screenshots

# Re-resolve the dependency pins after editing pyproject.toml.
lock: install
	$(VENV)/bin/uv pip compile --quiet pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) staticfiles db.sqlite3

# import_orders of 1,000,000 rows beside PostgreSQL's COPY of the same file (the floor).
bench-orders: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_import_orders $(BENCH_ARGS)

# 200,000 tickets and 10,000 articles: queue, ticket page, knowledge search and escalation job.
bench-service: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_service $(BENCH_ARGS)

# Webhook deliveries per second by one worker to a local receiver, beside plain POSTs (the floor).
bench-webhooks: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py migrate --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_webhooks $(BENCH_ARGS)

# 10,000 messages appended to a local dovecot (devtools/mailserver) and ingested: messages/s
# and peak memory beside the raw IMAP fetch of the same messages (the floor). A second run
# finds them ingested and says so; BENCH_ARGS=--fresh measures again.
bench-mail: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_mail $(BENCH_ARGS)

# 1,000,000 customers and 10,000,000 orders: a full segment run beside the plain grouped
# aggregate (the floor), peak memory, and the dashboards' server times.
bench-analytics: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_ANALYTICS_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_ANALYTICS_DATABASE_URL) $(PY) manage.py bench_analytics $(BENCH_ARGS)

# An email campaign to 100,000 recipients through a local SMTP sink, with 1 and 2 Celery
# workers on Redis: messages per second per worker.
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/5
bench-campaign-send: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) manage.py bench_campaign_send $(BENCH_ARGS)

# Audience count and preview of email campaigns on make bench-analytics' 1,000,000 customers.
bench-audience: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_ANALYTICS_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_ANALYTICS_DATABASE_URL) $(PY) manage.py bench_audience $(BENCH_ARGS)

# 32 locust users of every role for 60 s on gunicorn with a Celery worker and beat: requests/s
# and p50/p95/p99 per page beside the same users asking /healthz (the floor), the servers' CPU
# per request, no failed request, and every write counted in the database exactly once.
# BENCH_ARGS="--users 64 --seconds 120".
BENCH_LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench_load
BENCH_LOAD_REDIS_URL ?= redis://127.0.0.1:6379/9
bench-load: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_LOAD_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_LOAD_DATABASE_URL) REDIS_URL=$(BENCH_LOAD_REDIS_URL) $(PY) manage.py bench_load $(BENCH_ARGS)

# The REST API through gunicorn: 100,000 orders posted by 8 clients with idempotency keys
# (orders/s, p95), the customer list endpoint's p95 at 100,000 customers, beside /healthz
# through the same gunicorn and the ORM's insert rate (the floors).
# BENCH_ARGS="--target customers" posts customers where the orders endpoint is not merged.
BENCH_API_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench_api
bench-api: messages
	$(BENCH_ENV) DATABASE_URL=$(BENCH_API_DATABASE_URL) $(PY) manage.py collectstatic --noinput -v 0
	$(BENCH_ENV) DATABASE_URL=$(BENCH_API_DATABASE_URL) $(PY) manage.py bench_api $(BENCH_ARGS)
