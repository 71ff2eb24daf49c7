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

# Two-factor sign-in is required of no role while the suite runs: personas sign in with
# force_login and would all be sent to enrolment. tests/core/test_two_factor.py and the
# browser journey turn it on (the product's default is Admin and Manager).
CRM_REQUIRE_2FA_ROLES = []
# The suite is served over plain HTTP by the test client and the live server.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# The suite's API clients (schemathesis sends hundreds of requests a minute with one token)
# are not throttled; tests/core/test_api_tokens.py sets a low rate where it tests the throttle.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "1000000/min"}}  # noqa: F405

# Files the tests store (attachments, raw mail, exports) go to a directory of this run,
# never into the checkout's media/. The worker processes a test starts inherit the test
# process's directory (CRM_TEST_MEDIA_ROOT, set here), as production's workers share one
# storage: a worker with a directory of its own wrote exports the test could not read.
import os  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

MEDIA_ROOT = Path(
    os.environ.get("CRM_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="crm-test-media-")
)
os.environ["CRM_TEST_MEDIA_ROOT"] = str(MEDIA_ROOT)
