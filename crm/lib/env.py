"""Small readers for settings that come from the environment.

Each one rejects a malformed value with an ImproperlyConfigured error that
names the variable, so a typo in production fails at start-up instead of
silently falling back to a default.
"""

import os
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name, default)
    if "\x00" in value:
        raise ImproperlyConfigured(f"{name} contains a NUL byte.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name} must list at least one comma-separated value.")
    return items


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a known IANA time zone.") from exc
    return value


def env_currency(name: str, default: str) -> str:
    value = env_str(name, default).strip().upper()
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ImproperlyConfigured(
            f"{name} must be a three-letter ISO 4217 code such as USD; got {value!r}."
        )
    return value


def env_url(name: str, schemes: tuple[str, ...]) -> str | None:
    """Return the URL in `name`, or None when unset; reject other schemes."""
    value = env_str(name).strip()
    if not value:
        return None
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must start with one of {allowed}; got {value!r}.")
    return value


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    raw = env_str(name, str(default)).strip()
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from exc
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}; got {value}.")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"


def require_safe_settings_to_serve() -> None:
    """Called by the WSGI and ASGI entry points: with DEBUG off a server never signs with the
    known or a short key, and never prints emails (password resets, customers' replies) to
    its log instead of sending them. Management commands and the test suite run without
    these (they serve nothing)."""
    from django.conf import settings

    if settings.DEBUG:
        return
    key = settings.SECRET_KEY
    if key == settings.INSECURE_SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    if len(key) < settings.SECRET_KEY_MIN_LENGTH or len(set(key)) < 5:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be at least {settings.SECRET_KEY_MIN_LENGTH} random characters "
            "when DEBUG is off (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    if settings.EMAIL_BACKEND == CONSOLE_EMAIL_BACKEND:
        raise ImproperlyConfigured(
            "EMAIL_BACKEND is the console backend, which prints emails instead of sending "
            "them; set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST."
        )
