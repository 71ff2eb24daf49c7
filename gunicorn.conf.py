"""gunicorn's settings for the CRM: `gunicorn crm.wsgi` reads this file from the project root.

Every value can be changed from the environment (README: Deployment); the defaults suit one
machine behind a TLS proxy.
"""

import multiprocessing

from crm.lib.env import env_bool, env_int, env_str

# The settings module reads the environment alone (no Django set-up): the same EMAIL_TIMEOUT
# the application will use.
from crm.settings import EMAIL_TIMEOUT

# Loopback by default: the TLS proxy in front (nginx, a load balancer) forwards to it.
# GUNICORN_BIND=0.0.0.0:8000 listens on every interface (inside a container).
bind = env_str("GUNICORN_BIND", "127.0.0.1:8000").split(",")

# Synchronous workers: the classic 2 × cores + 1, since a request spends part of its time
# waiting on PostgreSQL and Redis. Each worker holds one database connection (CONN_MAX_AGE),
# so workers × machines must stay below PostgreSQL's max_connections.
workers = env_int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1, minimum=1, maximum=256)

# A request that sends mail while it is handled (until every email goes through the outbox)
# waits for the SMTP server up to EMAIL_TIMEOUT per connection attempt: the worker timeout
# leaves that wait 15 s of room on top, so a slow mail server gives the user an answer
# instead of a killed worker and a 502. Anything slower than this is a hung request.
timeout = env_int("GUNICORN_TIMEOUT", EMAIL_TIMEOUT + 15, minimum=EMAIL_TIMEOUT + 1, maximum=3600)

# On a restart (SIGTERM, or a deploy's SIGHUP), workers finish the requests they have for
# this long before they are killed: as long as the slowest request may legitimately take.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", timeout, minimum=1, maximum=3600)

# The application is loaded once in the master and the workers fork from it (crm/wsgi.py
# warms it up: URLconf, catalogues, templates): a new or recycled worker answers its first
# request at once instead of importing everything then, which on a busy machine outlasted
# the worker timeout. The code is read when the master starts: a deploy restarts the master
# (systemctl restart, or USR2 then QUIT the old master), not only HUP the workers.
preload_app = env_bool("GUNICORN_PRELOAD", True)

# Each worker is replaced after this many requests (a slow leak, in our code or a library,
# cannot grow forever); the jitter spreads the restarts so workers do not all recycle at once.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 1000, minimum=0, maximum=10_000_000)
max_requests_jitter = max(1, max_requests // 10)

# Idle keep-alive connections from the proxy are held this long (the proxy reuses them).
keepalive = 5

# The access log to stdout (with the error log on stderr): the process manager or container
# runtime collects both. %(M)s is the response time in milliseconds; %({x-request-id}i)s the
# proxy's request id, the one the JSON application logs show (CRM_LOG_FORMAT=json).
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s" request_id=%({x-request-id}i)s'
)
loglevel = env_str("GUNICORN_LOG_LEVEL", "info")
