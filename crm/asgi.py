import os

from django.core.asgi import get_asgi_application

from crm.lib.env import require_safe_settings_to_serve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
application = get_asgi_application()
require_safe_settings_to_serve()
