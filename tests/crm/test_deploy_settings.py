"""Deployment hardening (issue 13, point 9): `check --deploy` is clean under the production
settings the README documents, a server refuses a short SECRET_KEY and the console mail
backend with DEBUG off, HTTPS and HSTS follow SECURE_COOKIES, sessions last a working day,
and every page carries a Content Security Policy with a nonce and no inline handlers.
Each test fails on the code before."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# README: Running in production (with the real host names and secrets).
PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "DJANGO_SETTINGS_MODULE": "crm.settings",
    "SECRET_KEY": "k3J9-production-like-secret-7f1c9e2ab4d85c0f6e3a9b1d2c4e5f6a7b8c9d0e",
    "ALLOWED_HOSTS": "crm.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://crm.example.com",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.com",
    "CRM_TRUSTED_PROXIES": "1",
    "CRM_BASE_URL": "https://crm.example.com",  # links in emails reach customers (crm.W001)
}


def run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, *code_or_args],
        env={**PRODUCTION_ENV, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_prints_no_warning_under_the_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "ERRORS" not in output
    assert "System check identified no issues" in output


def test_a_server_starts_with_the_production_settings():
    result = run(["-c", "import crm.wsgi"])
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": "short-key-of-thirty-characters"}, "at least 50 random characters"),
        ({"SECRET_KEY": "a" * 60}, "at least 50 random characters"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "console backend"),
        ({"EMAIL_BACKEND": ""}, "console backend"),
    ],
)
def test_a_server_refuses_unsafe_settings_when_debug_is_off(env, message):
    environment = dict(env)
    if environment.get("EMAIL_BACKEND") == "":
        environment.pop("EMAIL_BACKEND")  # unset: the default is the console backend
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", "import crm.wsgi"],
            env={k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_BACKEND"},
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    else:
        result = run(["-c", "import crm.wsgi"], **environment)
    assert result.returncode != 0
    assert message in result.stderr
    # With DEBUG on (development) the same settings serve.
    assert run(["-c", "import crm.wsgi"], DEBUG="1", **env).returncode == 0


def test_https_settings_follow_secure_cookies():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.SESSION_COOKIE_AGE)"
    )
    assert run(["-c", code]).stdout.split() == ["True", "31536000", "True", "28800"]
    plain = run(["-c", code], SECURE_COOKIES="0", CRM_SESSION_HOURS="2")
    assert plain.stdout.split() == ["False", "0", "False", "7200"]


def test_the_2fa_roles_setting_rejects_unknown_roles():
    result = run(["-c", "import django; django.setup()"], CRM_REQUIRE_2FA_ROLES="Admin,Boss")
    assert result.returncode != 0
    assert "CRM_REQUIRE_2FA_ROLES names unknown roles ['Boss']" in result.stderr


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(rep_client):
    response = rep_client.get("/customers/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    # The nonce is added when a page uses it (a <style nonce> block); none here.
    assert directives["script-src"].split()[0] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"


def test_no_template_uses_an_inline_event_handler_or_script():
    """The policy refuses them: behaviour lives in static/js (crm.js binds data-confirm and
    data-submit-on-change)."""
    handler = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (handler, inline_script):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
        for style in re.finditer(r"<style[^>]*>", text):
            if "nonce=" not in style.group(0) and "email" not in path.parts:
                found.append(f"{path.relative_to(ROOT)}: {style.group(0)}")
    assert found == []
