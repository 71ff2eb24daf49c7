"""The settings the test suite runs with: the product's (crm/settings.py), plus the development
tools, because the demo and benchmark code is tested too.

pytest-django reads settings before any conftest.py is imported, so an environment variable
set in a conftest would come too late; pointing pytest at this module (pyproject.toml) makes
plain `pytest` and `make test` agree whatever CRM_DEVTOOLS says.
"""

from crm.settings import *  # noqa: F403
from crm.settings import INSTALLED_APPS

CRM_DEVTOOLS = True
if "devtools" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
