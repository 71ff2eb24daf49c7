"""Anonymous readers of the help centre write no row per request (issue 13, point 8).

Before, every reader got a database session (to remember the articles viewed and voted
on), and a script clearing its cookies counted a view and a vote on every request. The
two tests below failed before.
"""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from service import knowledge as kb
from service.models import SuggestionOpen
from tests.factories import KnowledgeArticleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


def test_reading_voting_and_opening_suggestions_create_no_session():
    article = KnowledgeArticleFactory()
    reader = Client()
    reader.get(reverse("help:home"))
    reader.get(reverse("help:article", args=[article.pk]))
    reader.get(reverse("help:article", args=[article.pk]), {"from": "suggest"})
    reader.post(reverse("help:vote", args=[article.pk]), {"helpful": "yes"}, follow=True)
    assert not Session.objects.exists()
    assert SuggestionOpen.objects.count() == 1


def test_a_script_without_cookies_counts_once():
    article = KnowledgeArticleFactory()
    url = reverse("help:article", args=[article.pk])
    vote = reverse("help:vote", args=[article.pk])
    for _ in range(30):
        Client().get(url)  # a new client each time: no cookie remembers anything
        Client().post(vote, {"helpful": "no"})
    article.refresh_from_db()
    assert (article.view_count, article.not_helpful_votes) == (1, 1)


def test_counted_views_are_capped_per_address():
    limit, _window = kb.VIEWS_PER_CLIENT
    articles = KnowledgeArticleFactory.create_batch(limit + 5)
    reader = Client(REMOTE_ADDR="10.7.7.7")
    for article in articles:
        reader.get(reverse("help:article", args=[article.pk]))
    counted = sum(a.view_count for a in type(articles[0]).objects.all())
    assert counted == limit


def test_the_article_page_remembers_the_vote_in_a_cookie(client):
    article = KnowledgeArticleFactory()
    client.post(reverse("help:vote", args=[article.pk]), {"helpful": "yes"})
    page = client.get(reverse("help:article", args=[article.pk])).content.decode()
    assert "Was this helpful?" not in page
    client.cookies["help_voted"] = "forged"
    page = client.get(reverse("help:article", args=[article.pk])).content.decode()
    assert "Was this helpful?" in page
