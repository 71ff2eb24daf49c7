"""Help-centre category names in the reader's language: the help pages, the agents' pages,
the filter's choices, the fallback to the name as written, and the cache kept current."""

import pytest
from django.urls import reverse

from service.models import ArticleCategory, CategoryTranslation
from tests.factories import KnowledgeArticleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


@pytest.fixture
def category():
    category = ArticleCategory.objects.create(name="Account and login")
    KnowledgeArticleFactory(title="Reset your password", category=category, is_published=True)
    CategoryTranslation.objects.create(category=category, language="zh-hans", name="账户与登录")
    return category


def _chinese(client, settings, language="zh-hans"):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_help_home_and_article_show_the_category_in_chinese(client, category, settings):
    _chinese(client, settings)
    home = client.get(reverse("help:home")).content.decode()
    listed = client.get(reverse("help:home"), {"category": category.pk}).content.decode()
    article = category.articles.get()
    page = client.get(reverse("help:article", args=[article.pk])).content.decode()
    for html in (home, listed, page):
        assert "账户与登录" in html and "Account and login" not in html


def test_without_a_translation_the_name_as_written(client, category, settings):
    _chinese(client, settings, "zh-hant")
    assert "Account and login" in client.get(reverse("help:home")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Account and login" in client.get(reverse("help:home")).content.decode()


def test_agents_see_the_category_in_their_language(agent_client, category, settings):
    _chinese(agent_client, settings)
    article = category.articles.get()
    listing = agent_client.get(reverse("knowledge:article-list")).content.decode()
    detail = agent_client.get(reverse("knowledge:article-detail", args=[article.pk]))
    assert "账户与登录" in listing  # the table and the filter's choices
    assert "Account and login" not in listing
    assert "账户与登录" in detail.content.decode()


def test_a_changed_or_deleted_translation_shows_at_once(
    client, category, settings, django_capture_on_commit_callbacks
):
    """At once after the commit: the cache is cleared then, or a page read while the
    admin's transaction is open would cache the old name again for an hour."""
    _chinese(client, settings)
    assert "账户与登录" in client.get(reverse("help:home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        CategoryTranslation.objects.filter(category=category).get().delete()
        assert "账户与登录" in client.get(reverse("help:home")).content.decode()  # not yet
    assert "Account and login" in client.get(reverse("help:home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        CategoryTranslation.objects.create(category=category, language="zh-hans", name="登录问题")
    assert "登录问题" in client.get(reverse("help:home")).content.decode()


def test_category_names_cost_one_query_per_language(
    category, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from django.utils import translation

    from service.knowledge_models import forget_category_names

    with django_capture_on_commit_callbacks(execute=True):
        forget_category_names()
    for _ in range(3):
        ArticleCategory.objects.create(name=f"Other {_}")
    categories = list(ArticleCategory.objects.all())
    with translation.override("zh-hans"), django_assert_num_queries(1):
        names = [str(c) for c in categories]
    assert "账户与登录" in names and "Other 2" in names


def test_demo_seeds_chinese_category_names():
    import random

    from devtools.demo.knowledge import seed_articles

    seed_articles(rng=random.Random(1), users={})
    account = ArticleCategory.objects.get(name="Account and login")
    assert set(account.translations.values_list("language", "name")) == {
        ("zh-hans", "账户与登录"),
        ("zh-hant", "帳戶與登入"),
    }
