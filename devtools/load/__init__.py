"""`make bench-load`: locust users of every role against gunicorn, Celery and PostgreSQL.

locustfile.py and pages.py run inside locust (gevent, no Django); tally.py and the
`bench_load` command run in Django and never import locust (its gevent patching would
change every socket of the process).
"""
