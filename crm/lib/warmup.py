"""Load what every request needs before the first one arrives (crm/wsgi.py).

Django imports the URLconf (and through it every view, DRF and the API schema), the
translation catalogues and each template lazily, on the first request that needs them. On
a busy machine that first request in a new gunicorn worker took longer than the worker
timeout (issue 18: a /healthz killed after 25 s while a load test started, so the test never
began), and every worker recycled by max_requests paid it again. Done here, at import time of
the WSGI application, it happens once in gunicorn's master (preload_app, gunicorn.conf.py):
the workers fork with it in memory, shared copy-on-write.

Babel's locale data and Celery's task registry and broker transport load lazily too: each new
worker read Babel's pickles on its first amount and imported kombu's transport on its first
queued task, 85 to 110 ms of CPU inside its first requests (measured in a new process).
"""

from pathlib import Path
from typing import cast

from babel.numbers import format_currency
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.template import engines
from django.urls import get_resolver
from django.utils import translation

from crm.celery import app as celery_app
from crm.lib.currencies import babel_locale


def warm_up() -> list[str]:
    """Import the URLconf, load every language's catalogue and number formats, build Celery's
    task registry, import its broker transport and compile the project's page templates;
    return the names of the templates compiled. Leaves no connection open: a forked worker
    must not share its parent's database or Redis socket."""
    get_resolver().url_patterns  # noqa: B018 - importing every view is the point
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("CRM")
            format_currency(1, "USD", locale=babel_locale())  # number symbols and currencies
    celery_app.finalize(auto=True)
    celery_app.connection_for_write().release()  # imports the transport; connects lazily
    compiled = _compile_templates()
    connections.close_all()
    for cache in caches.all(initialized_only=True):
        cache.close()
    return compiled


def _compile_templates() -> list[str]:
    """Every template in the project's own directories, through the engine's loaders (the
    cached loader keeps them compiled when DEBUG is off)."""
    engine = engines["django"]
    names = []
    directories = cast(list[Path], settings.TEMPLATES[0]["DIRS"])
    for directory in directories:
        root = Path(directory)
        for path in sorted(root.rglob("*.html")) + sorted(root.rglob("*.txt")):
            name = path.relative_to(root).as_posix()
            engine.get_template(name)
            names.append(name)
    return names
