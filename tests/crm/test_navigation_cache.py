"""The main navigation bar is kept rendered per permission set, section and language
({% valuecache nav %} in base.html, crm/templatetags/navigation.py; issue 18), with the
user's name, the task count, the search text and the CSRF tokens rendered on every request
({% live %}). Never another role's links, a stale count or another request's token."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse

from crm.lib.fragments import value_fragments
from crm.roles import SALES_REP
from tests.factories import CustomerFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_fragments")]
NAV = re.compile(r"<nav .*?</nav>", re.S)


def nav(response) -> str:
    assert response.status_code == 200
    match = NAV.search(response.content.decode())
    assert match, "no navigation bar"
    return match.group(0)


def active_links(html: str) -> list[str]:
    return re.findall(r'class="nav-link[^"]*active"[^>]*>([^<]+)<', html)


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_the_bar_is_kept_and_served_again(rep_client):
    first = without_tokens(nav(rep_client.get("/customers/")))
    assert value_fragments.kept_from("base.html") == 1
    assert without_tokens(nav(rep_client.get("/customers/"))) == first
    assert value_fragments.kept_from("base.html") == 1
    assert "<!--live:" not in first


def test_each_role_sees_its_own_links(rep_client, agent_client):
    rep_bar = nav(rep_client.get("/"))
    agent_bar = nav(agent_client.get("/"))
    assert 'href="/service/tickets/"' in agent_bar
    assert 'href="/service/tickets/"' not in rep_bar
    assert 'href="/sales/board/"' in rep_bar
    assert 'href="/sales/board/"' not in agent_bar


def test_a_permission_granted_shows_its_link_at_once(rep, rep_client):
    webhooks = f'href="{reverse("integrations:webhook-list")}"'
    assert webhooks not in nav(rep_client.get("/"))
    rep.user_permissions.add(Permission.objects.get(codename="change_webhookendpoint"))
    assert webhooks in nav(rep_client.get("/"))


def test_each_user_sees_their_own_name_and_task_count(rep, rep2, rep_client, rep2_client):
    TaskFactory.create_batch(3, assignee=rep, customer=CustomerFactory(owner=rep))
    mine, theirs = nav(rep_client.get("/")), nav(rep2_client.get("/"))
    assert ">rep<" in mine and ">rep2<" in theirs
    assert 'title="Open tasks">3<' in mine
    assert "Open tasks" not in theirs
    TaskFactory(assignee=rep2, customer=CustomerFactory(owner=rep2))
    assert 'title="Open tasks">1<' in nav(rep2_client.get("/"))


def test_the_search_box_shows_this_requests_text(rep_client):
    assert 'value="acme"' in nav(rep_client.get("/customers/search/?q=acme"))
    assert 'value="globex"' in nav(rep_client.get("/customers/search/?q=globex"))
    assert 'type="search" name="q" maxlength="200" value=""' in nav(rep_client.get("/"))


def test_the_forms_in_the_bar_carry_this_sessions_csrf_token(rep_client):
    rep_client.get("/")  # sets the CSRF cookie
    bar = nav(rep_client.get("/"))
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', bar)
    assert len(tokens) == 2  # the language form and the logout form
    assert len(set(tokens)) == 1
    assert tokens[0] != re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', nav(rep_client.get("/")))[0]  # fmt: skip
    # And the logout form works with it: the enforcing client posts it as a browser would.
    rep_client.handler.enforce_csrf_checks = True
    response = rep_client.post("/accounts/logout/", {"csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 302


def test_the_section_link_is_marked_active(rep_client, agent_client):
    assert active_links(nav(rep_client.get("/customers/"))) == ["Customers"]
    assert active_links(nav(rep_client.get("/customers/tasks/"))) == ["My tasks\n          "]
    assert active_links(nav(agent_client.get("/service/tickets/"))) == ["Tickets"]
    assert active_links(nav(rep_client.get("/"))) == []


def test_the_bar_is_kept_per_language(rep_client):
    english = nav(rep_client.get("/"))
    chinese = nav(rep_client.get("/", headers={"accept-language": "zh-hans"}))
    assert ">Customers<" in english and ">Customers<" not in chinese


def test_a_live_part_belongs_inside_a_kept_block():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load form_fragments %}{% live %}x{% endlive %}")
    with pytest.raises(TemplateSyntaxError):
        Template("{% load form_fragments %}{% valuecache v %}{% valuecache v %}{% endvaluecache %}{% endvaluecache %}")  # fmt: skip


def test_a_live_part_is_rendered_on_every_request_and_only_where_shown():
    template = Template(
        "{% load form_fragments %}{% valuecache shown %}[{{ shown }}"
        "{% if shown %}<{% live %}{{ fresh }}{% endlive %}>{% endif %}]{% endvaluecache %}"
    )
    assert template.render(Context({"shown": 1, "fresh": "a"})) == "[1<a>]"
    assert template.render(Context({"shown": 1, "fresh": "b"})) == "[1<b>]"
    assert template.render(Context({"shown": 0, "fresh": "c"})) == "[0]"


def test_a_user_without_a_role_gets_a_bar_without_links(nobody_client):
    assert 'href="/customers/"' not in nav(nobody_client.get("/accounts/profile/"))


def test_a_rep_made_staff_gets_the_admin_link(rep, rep_client):
    assert 'href="/admin/"' not in nav(rep_client.get("/"))
    rep.is_staff = True
    rep.save()
    assert 'href="/admin/"' in nav(rep_client.get("/"))


def test_users_of_one_role_share_the_kept_bar():
    first, second = (UserFactory(role=SALES_REP) for _ in range(2))
    from django.test import Client

    for user in (first, second):
        client = Client()
        client.force_login(user)
        nav(client.get("/"))
    # One bar (with its live parts' markers) for both.
    assert value_fragments.kept_from("base.html") == 1
