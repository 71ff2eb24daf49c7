"""Knowledge articles and CSAT ratings through the API: published articles only, searched
with the knowledge base's own search; ratings of the tickets the user may see."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from service.models import ArticleCategory
from tests.factories import (
    CustomerFactory,
    KnowledgeArticleFactory,
    SatisfactionResponseFactory,
)

pytestmark = pytest.mark.django_db

ARTICLES = reverse("api:knowledge-article-list")
CSAT = reverse("api:csat-response-list")


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def articles():
    category = ArticleCategory.objects.create(name="Billing")
    return {
        "refund": KnowledgeArticleFactory(title="Refund a payment", body="Open **Orders**",
                                          category=category),
        "login": KnowledgeArticleFactory(title="Reset your password", body="Use the link"),
        "draft": KnowledgeArticleFactory(title="Refund draft", is_published=False),
    }  # fmt: skip


@pytest.mark.parametrize("persona", ["rep", "agent", "manager"])
def test_published_articles_only(request, persona, articles):
    client = api(request.getfixturevalue(persona))
    titles = [row["title"] for row in client.get(ARTICLES).json()["results"]]
    assert titles == ["Refund a payment", "Reset your password"]
    draft = reverse("api:knowledge-article-detail", args=[articles["draft"].pk])
    assert client.get(draft).status_code == 404


def test_article_carries_safe_html_and_its_category(agent, articles):
    url = reverse("api:knowledge-article-detail", args=[articles["refund"].pk])
    body = api(agent).get(url).json()
    assert body["body_html"].strip() == "<p>Open <strong>Orders</strong></p>"
    assert body["category_name"] == "Billing"


def test_search_uses_the_knowledge_base_search(agent, articles):
    rows = api(agent).get(ARTICLES, {"search": "refund"}).json()["results"]
    assert [row["title"] for row in rows] == ["Refund a payment"]
    category = articles["refund"].category_id
    rows = api(agent).get(ARTICLES, {"category": category}).json()["results"]
    assert [row["title"] for row in rows] == ["Refund a payment"]


@pytest.mark.parametrize("persona", ["marketer", "nobody"])
def test_roles_without_the_knowledge_base_are_refused(request, persona, articles):
    client = api(request.getfixturevalue(persona))
    assert client.get(ARTICLES).status_code == 403
    assert client.get(CSAT).status_code == 403


def test_rep_reads_ratings_of_their_customers_tickets_only(rep, rep2):
    mine = SatisfactionResponseFactory(ticket__customer=CustomerFactory(owner=rep), score=2)
    theirs = SatisfactionResponseFactory(ticket__customer=CustomerFactory(owner=rep2))
    client = api(rep)
    rows = client.get(CSAT).json()["results"]
    assert [(r["id"], r["ticket"], r["score"]) for r in rows] == [(mine.pk, mine.ticket_id, 2)]
    assert client.get(reverse("api:csat-response-detail", args=[theirs.pk])).status_code == 404


def test_agent_reads_every_rating_and_filters_by_score_and_date(agent):
    low = SatisfactionResponseFactory(score=1)
    old = SatisfactionResponseFactory(score=5, created_at=timezone.now() - timedelta(days=40))
    rows = api(agent).get(CSAT, {"score": "1"}).json()["results"]
    assert [r["id"] for r in rows] == [low.pk]
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert [r["id"] for r in api(agent).get(CSAT, {"created_from": since}).json()["results"]] == [
        low.pk
    ]
    assert [r["id"] for r in api(agent).get(CSAT, {"created_to": since}).json()["results"]] == [
        old.pk
    ]


HOSTILE = [
    {"search": "a\x00b"},
    {"search": "退款 refund <script>"},
    {"category": "9" * 40},
    {"category": "١"},
    {"limit": "9" * 40},
    {"offset": "-1"},
    {"score": "\x00"},
    {"created_from": "2024-02-30"},
    {"created_to": "9999999-01-01"},
    {"created_from": "2024-01-01T00:00:00"},
    {"created_to": "9999-12-31"},
    {"created_from": "0001-01-01"},
    {"created_from": "0001-01-01T00:00:00+14:00"},
    {"page_size": "١٢"},
]


@pytest.mark.parametrize("params", HOSTILE)
@pytest.mark.parametrize("url", [ARTICLES, CSAT])
def test_hostile_query_strings_never_500(agent, articles, url, params):
    response = api(agent).get(url, params)
    assert response.status_code in (200, 400, 404), (url, params, response.status_code)
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def test_list_queries_do_not_grow(agent, django_assert_max_num_queries):
    client = api(agent)
    category = ArticleCategory.objects.create(name="General")
    KnowledgeArticleFactory.create_batch(2, category=category)
    SatisfactionResponseFactory.create_batch(2)
    budgets = {}
    for url in (ARTICLES, CSAT):
        with django_assert_max_num_queries(10) as few:
            assert client.get(url).status_code == 200
        budgets[url] = len(few.captured_queries)
    KnowledgeArticleFactory.create_batch(20, category=category)
    SatisfactionResponseFactory.create_batch(20)
    for url in (ARTICLES, CSAT):
        with django_assert_max_num_queries(budgets[url]):
            assert client.get(url).status_code == 200
