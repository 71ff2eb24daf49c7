import os

from django.core.wsgi import get_wsgi_application

from crm.lib.env import require_safe_settings_to_serve
from crm.lib.warmup import warm_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
application = get_wsgi_application()
require_safe_settings_to_serve()
# Before the first request, in gunicorn's master (preload_app): crm/lib/warmup.py.
warm_up()
