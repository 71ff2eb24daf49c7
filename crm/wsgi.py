import os

from django.core.wsgi import get_wsgi_application

from crm.lib.env import require_safe_settings_to_serve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
application = get_wsgi_application()
require_safe_settings_to_serve()
