"""Suggested articles are kept per text (knowledge.suggest_articles; issue 18): the search
runs once, and the kept answer never outlives a change of the articles."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from service.knowledge import suggest_articles
from service.knowledge_translations import translation_save
from service.models import KnowledgeArticle
from tests.factories import KnowledgeArticleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
TEXT = "My router will not reset after the firmware upgrade"


def suggested(text: str = TEXT) -> tuple[list[str], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        titles = [article.title for article in suggest_articles(text)]
    return titles, [query["sql"].lower() for query in queries]


def test_the_answer_is_kept_and_read_back_by_id():
    KnowledgeArticleFactory(title="Reset the router", body="Hold the button for ten seconds.")
    KnowledgeArticleFactory(title="Shipping times", body="Parcels leave within three days.")
    first, _ = suggested()
    assert first == ["Reset the router"]
    again, queries = suggested()
    assert again == first
    [read_back] = queries  # the kept ids, read back: no search for the text's words
    assert "router" not in read_back and "firmware" not in read_back


def test_a_new_or_edited_article_is_suggested_at_once():
    KnowledgeArticleFactory(title="Reset the router", body="Hold the button.")
    assert suggested()[0] == ["Reset the router"]
    KnowledgeArticleFactory(title="Firmware upgrade notes", body="What changed.")
    assert set(suggested()[0]) == {"Reset the router", "Firmware upgrade notes"}
    other = KnowledgeArticleFactory(title="Shipping times", body="Three days.")
    assert "Shipping times" not in suggested()[0]
    other.body = "After a firmware upgrade, the router ships with new settings."
    other.save()
    assert "Shipping times" in suggested()[0]


def test_an_article_unpublished_behind_the_cache_is_never_suggested():
    article = KnowledgeArticleFactory(title="Reset the router", body="Hold the button.")
    assert suggested()[0] == ["Reset the router"]
    # A bulk update sends no signal: the kept ids are read back as published articles only.
    KnowledgeArticle.objects.filter(pk=article.pk).update(is_published=False)
    assert suggested()[0] == []
    KnowledgeArticle.objects.filter(pk=article.pk).delete()
    assert suggested()[0] == []


def test_a_new_translation_is_searched_at_once(agent):
    article = KnowledgeArticleFactory(title="Lost parcel", body="Ask the carrier.")
    assert suggested("我的路由器无法重置")[0] == []
    translation_save(
        article=article,
        language="zh-hans",
        title="路由器无法重置",
        body="按住按钮十秒。",
        is_published=True,
    )
    assert suggested("我的路由器无法重置")[0] == ["Lost parcel"]
