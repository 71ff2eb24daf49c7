"""Security settings (issue 13): sign-in throttling, two-factor sign-in, the Content Security
Policy, HTTPS and sessions. Star-imported by crm/settings.py; every value comes from the
environment (README: Configuration, Running in production)."""

from datetime import timedelta

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from crm.lib.env import env_bool, env_int, env_str
from crm.roles import ROLES

_DEBUG = env_bool("DEBUG", default=False)

# --- the client's address (crm/lib/ratelimit.py) -------------------------------------------
# How many reverse proxies in front of gunicorn append to X-Forwarded-For (nginx with
# `proxy_add_x_forwarded_for`: 1). 0 trusts no header: the client is REMOTE_ADDR.
CRM_TRUSTED_PROXIES = env_int("CRM_TRUSTED_PROXIES", 0, minimum=0, maximum=10)

# --- wrong passwords (django-axes) ---------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out account or address
    "django.contrib.auth.backends.ModelBackend",
]
# Counted per account and, separately, per client address (IPv6 by /64): either one reaching
# the limit locks out sign-ins for that account or from that address until the cool-off ends.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("CRM_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CRM_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "crm.lib.ratelimit.client_bucket"
AXES_LOCKOUT_CALLABLE = "core.views.locked_out"  # a translated page, status 429
AXES_VERBOSE = False
# Sign-ins are recorded once, in the audit log (core/signals.py), not again by django-axes.
AXES_DISABLE_ACCESS_LOG = True
# Password reset requests: per client address and per email address (core/views.py).
CRM_PASSWORD_RESET_LIMITS = {"address": (5, 60 * 60), "email": (3, 60 * 60)}

# --- two-factor sign-in (django-otp, TOTP) -------------------------------------------------
# Users of these roles (and superusers, when "Admin" is listed) must enrol an authenticator
# app before they can use anything, Django admin included. Comma-separated role names;
# empty: nobody is required (anyone may still enrol from their account menu).
_roles = env_str("CRM_REQUIRE_2FA_ROLES", "Admin,Manager")
CRM_REQUIRE_2FA_ROLES = [role.strip() for role in _roles.split(",") if role.strip()]
if unknown := set(CRM_REQUIRE_2FA_ROLES) - set(ROLES):
    raise ImproperlyConfigured(
        f"CRM_REQUIRE_2FA_ROLES names unknown roles {sorted(unknown)}; roles are {ROLES}."
    )
OTP_TOTP_ISSUER = env_str("CRM_OTP_ISSUER", "CRM")

# --- Content Security Policy (django-csp 4) ------------------------------------------------
# Scripts and <style> elements only from our origin or with the request's nonce; no
# inline event handlers (static/js/crm.js binds data-confirm and data-submit-on-change).
# Style attributes stay allowed (style-src-attr): progress bars and chart bars carry their
# computed width, and an attribute cannot run script. Images only from our origin and data:
# URIs (Bootstrap's icons), so a knowledge-base article cannot load a tracking pixel.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

# --- HTTPS ---------------------------------------------------------------------------------
# SECURE_COOKIES (default on when DEBUG is off) says the site is served over HTTPS; it turns
# on the secure cookies, the redirect to HTTPS and HSTS, each of which can be set alone.
_HTTPS = env_bool("SECURE_COOKIES", default=not _DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=_HTTPS)
# /healthz and /readyz are asked over plain HTTP by the load balancer and local monitoring.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 365 * 24 * 3600 if _HTTPS else 0, minimum=0, maximum=2 * 365 * 86400
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# --- sessions ------------------------------------------------------------------------------
# A sign-in lasts a working day by default; a lost or shared computer is not signed in for
# the two weeks Django would keep it.
SESSION_COOKIE_AGE = env_int("CRM_SESSION_HOURS", 8, minimum=1, maximum=24 * 30) * 3600

# --- checked when a server starts (crm/lib/env.py: require_safe_settings_to_serve) ----------
SECRET_KEY_MIN_LENGTH = 50  # Django's own deploy check asks for at least 50 characters
# Admins reset a user's device in Django admin (delete it); they never see its secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
