"""Every POST form carries the one-time token (`{% submit_token %}`), but for the few that
must not, each named here with the reason. Read from the templates, so a new form that
forgets it fails here; a few pages are rendered to see the token in the HTML."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from core.middleware import TOKEN_FIELD
from tests.factories import CampaignFactory, CustomerFactory, DealFactory, TicketFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# template -> why its POST forms carry no token
EXEMPT = {
    "partials/language_form.html": "switching the language creates nothing and may repeat",
    "registration/login.html": "signing in (and its language links): no result to replay",
    "registration/password_change_form.html": "Django's view; a repeat changes nothing more",
    "base.html": "signing out",
    "registration/two_factor_account.html": "enrolling a device: no result to replay",
    "registration/two_factor_verify.html": "signing in (the second step): no result to replay",
    "core/partials/export_list.html": "answers the file, and the service lets it be taken once",
    "customers/customer_data.html": "answers a file; a repeat gives the same data",
    "marketing/leads/confirm.html": "answers its page; confirming twice changes nothing",
    "analytics/partials/recompute_button.html": (
        "htmx swaps the run's status, not this button, so a token would be reused; a second "
        "run while one is active is refused by the service"
    ),
}
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.I | re.S)


def post_forms() -> list[tuple[str, str]]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(TEMPLATES))
        found += [(name, body) for body in POST_FORM.findall(path.read_text(encoding="utf-8"))]
    return found


def test_every_post_form_in_the_templates_carries_the_token():
    forms = post_forms()
    assert len(forms) > 40
    missing = sorted(
        {name for name, body in forms if "{% submit_token %}" not in body} - set(EXEMPT)
    )
    assert missing == []
    stale = set(EXEMPT) - {name for name, _body in forms}
    assert not stale, f"EXEMPT names templates without POST forms: {stale}"


class _Forms(HTMLParser):
    """Each POST form's action and whether it holds the token input."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list] = []
        self._open: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._open = [attrs.get("action") or "", False]
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and attrs.get("name") == TOKEN_FIELD:
            self._open[1] = bool(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


EXEMPT_ACTIONS = {reverse("logout"), reverse("set_language")}


@pytest.fixture
def objects(manager):
    customer = CustomerFactory(owner=manager)
    return {
        "customer": customer,
        "ticket": TicketFactory(customer=customer, assignee=manager),
        "deal": DealFactory(owner=manager, customer=customer),
        "campaign": CampaignFactory(),
    }


@pytest.mark.parametrize(
    ("name", "arg"),
    [
        ("customers:customer-create", None),
        ("customers:customer-detail", "customer"),
        ("customers:contact-create", "customer"),
        ("customers:customer-import", None),
        ("service:ticket-detail", "ticket"),
        ("sales:deal-detail", "deal"),
        ("sales:quote-create", "deal"),
        ("marketing:campaign-create", None),
        ("knowledge:article-create", None),
    ],
)
def test_create_pages_render_a_token_in_each_post_form(manager_client, objects, name, arg):
    url = reverse(name, args=[objects[arg].pk] if arg else [])
    response = manager_client.get(url)
    assert response.status_code == 200
    parser = _Forms()
    parser.feed(response.content.decode())
    forms = [form for form in parser.forms if form[0] not in EXEMPT_ACTIONS]
    assert forms, f"{url} shows no POST form"
    assert all(has_token for _action, has_token in forms), forms


def test_the_public_help_form_renders_a_token(client, db):
    parser = _Forms()
    parser.feed(client.get(reverse("help:submit")).content.decode())
    assert [
        has_token for action, has_token in parser.forms if action == reverse("help:submit")
    ] == [True]


HX_POST_TAG = re.compile(r"<(\w+)\b[^>]*\bhx-post=[^>]*>", re.S)
HX_PARAMS = re.compile(r'hx-params="([^"]*)"')


def leaves_token_behind(params: str) -> bool:
    """hx-params="not submit_token", or a list of the fields it sends that omits it."""
    names = {name.strip() for name in params.removeprefix("not ").split(",")}
    if params.startswith("not "):
        return "submit_token" in names
    return params == "none" or (params != "*" and "submit_token" not in names)


def test_previews_inside_a_form_leave_its_token_behind():
    """htmx sends the enclosing form's fields with a preview or suggestion request; with
    the token, the first preview would use it up and every later one would answer 204.
    Only the form's own submission may carry it (the form's hx-post, when it submits)."""
    carrying = []
    for name, body in post_forms():
        if "{% submit_token %}" not in body:
            continue
        for tag in HX_POST_TAG.finditer(body):
            params = HX_PARAMS.search(tag.group(0))
            if not params or not leaves_token_behind(params.group(1)):
                carrying.append((name, tag.group(0)[:80]))
    assert carrying == []
