"""The main navigation bar is kept rendered per permission set, section and language
({% valuecache nav %} in base.html, crm/templatetags/navigation.py; issue 18), with the
user's name, the task count, the search text and the CSRF tokens rendered on every request
({% live %}). Never another role's links, a stale count or another request's token."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.urls import resolve as django_resolve
from django.urls import reverse

from crm.lib.fragments import value_fragments
from crm.roles import SALES_REP
from crm.templatetags.navigation import section_of
from tests.factories import CustomerFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_fragments")]
NAV = re.compile(r"<nav .*?</nav>", re.S)


def nav(response) -> str:
    assert response.status_code == 200
    match = NAV.search(response.content.decode())
    assert match, "no navigation bar"
    return match.group(0)


def active_links(html: str) -> list[str]:
    return [text.strip() for text in re.findall(r'class="nav-link[^"]*active"[^>]*>([^<]+)<', html)]


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
    assert active_links(nav(rep_client.get("/customers/tasks/"))) == ["My tasks"]
    assert active_links(nav(agent_client.get("/service/tickets/"))) == ["Tickets"]
    assert active_links(nav(agent_client.get("/knowledge/"))) == ["Knowledge base"]
    assert active_links(nav(rep_client.get("/"))) == []


def test_each_section_of_the_bar_is_found():
    resolve = lambda path: section_of(django_resolve(path))  # noqa: E731
    assert resolve("/sales/board/") == "sales"
    assert resolve("/marketing/campaigns/") == "marketing"
    assert resolve("/analytics/segments/") == "analytics"
    assert resolve(reverse("mail:unfiled-list")) == "unfiled"
    assert resolve("/customers/1/") == "customers"
    assert section_of(None) == ""


def test_the_bar_is_kept_per_language(rep_client):
    english = nav(rep_client.get("/"))
    chinese = nav(rep_client.get("/", headers={"accept-language": "zh-hans"}))
    assert ">Customers<" in english and ">Customers<" not in chinese


def test_a_live_part_belongs_inside_a_kept_block():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load form_fragments %}{% live %}x{% endlive %}")
    with pytest.raises(TemplateSyntaxError):
        Template("{% load form_fragments %}{% valuecache v %}{% valuecache v %}{% endvaluecache %}{% endvaluecache %}")  # fmt: skip
    with pytest.raises(TemplateSyntaxError):  # the block is over: a live part here is output
        Template("{% load form_fragments %}{% valuecache v %}{% endvaluecache %}{% live %}x{% endlive %}")  # fmt: skip
    with pytest.raises(TemplateSyntaxError):  # served to every page that fills the block
        Template("{% load form_fragments %}{% valuecache v %}{% block b %}{% endblock %}{% endvaluecache %}")  # fmt: skip
    with pytest.raises(TemplateSyntaxError):  # rendered after the loop: no loop variable
        Template("{% load form_fragments %}{% valuecache v %}{% for x in v %}{% live %}{{ x }}{% endlive %}{% endfor %}{% endvaluecache %}")  # fmt: skip


def test_a_live_part_is_rendered_on_every_request_and_only_where_shown():
    template = Template(
        "{% load form_fragments %}{% valuecache shown %}[{{ shown }}"
        "{% if shown %}<{% live %}{{ fresh }}{% endlive %}>{% endif %}]{% endvaluecache %}"
    )
    asked = []

    def fresh(value: str):
        return lambda: asked.append(value) or value

    assert template.render(Context({"shown": 1, "fresh": fresh("a")})) == "[1<a>]"
    assert template.render(Context({"shown": 1, "fresh": fresh("b")})) == "[1<b>]"
    assert template.render(Context({"shown": 0, "fresh": fresh("c")})) == "[0]"
    assert asked == ["a", "b"]  # not rendered where a condition hid it (the task count's query)


def test_a_recompiled_template_gets_its_own_key():
    source = "{% load form_fragments %}{% valuecache v %}<{% live %}{{ fresh }}{% endlive %}>{% endvaluecache %}"  # fmt: skip
    assert Template(source).render(Context({"v": 1, "fresh": "a"})) == "<a>"
    assert Template(source).render(Context({"v": 1, "fresh": "b"})) == "<b>"


def test_a_kept_block_reached_through_an_include_is_refused(settings, tmp_path):
    (tmp_path / "inner.html").write_text(
        "{% load form_fragments %}{% valuecache 2 %}{% live %}{{ secret }}{% endlive %}{% endvaluecache %}"  # fmt: skip
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    outer = '{% load form_fragments %}{% valuecache 1 %}{% include "inner.html" %}{% endvaluecache %}'  # fmt: skip
    from django.template import engines

    with pytest.raises(TemplateSyntaxError):
        engines["django"].from_string(outer).render({"secret": "user A's"})


def test_a_user_without_a_role_gets_a_bar_without_links(rep_client, nobody_client):
    assert 'href="/customers/"' in nav(rep_client.get("/accounts/profile/"))  # kept first
    assert 'href="/customers/"' not in nav(nobody_client.get("/accounts/profile/"))


def test_a_superuser_and_a_staff_user_without_permissions_get_their_own_bars():
    superuser = UserFactory(is_superuser=True, is_staff=True)
    staff = UserFactory(is_staff=True)
    bars = []
    for user in (superuser, staff):
        client = Client()
        client.force_login(user)
        bars.append(nav(client.get("/accounts/profile/")))
    assert 'href="/service/tickets/"' in bars[0]
    assert 'href="/service/tickets/"' not in bars[1]


def test_a_rep_made_staff_gets_the_admin_link(rep, rep_client):
    assert 'href="/admin/"' not in nav(rep_client.get("/"))
    rep.is_staff = True
    rep.save()
    assert 'href="/admin/"' in nav(rep_client.get("/"))


def test_users_of_one_role_share_the_kept_bar():
    first, second = (UserFactory(role=SALES_REP) for _ in range(2))
    for user in (first, second):
        client = Client()
        client.force_login(user)
        nav(client.get("/"))
    # One bar (with its live parts' markers) for both.
    assert value_fragments.kept_from("base.html") == 1
