"""Knowledge articles in the reader's language: translations, the fallback to the original
with a note, the language taken from the request, search across translations, the agents'
translation editor and its permissions."""

import random

import pytest
from django.urls import reverse

from devtools.demo.knowledge import seed_articles
from service.knowledge import search_articles, suggest_articles
from service.knowledge_translations import localize, translation_save
from service.models import ArticleTranslation, KnowledgeArticle, Ticket
from service.services import ticket_create
from tests.factories import CustomerFactory, KnowledgeArticleFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


def _translate(article, language="zh-hans", title="重置密码", body="点击“忘记密码”。", **extra):
    fields = {"is_published": True, **extra}
    return translation_save(article=article, language=language, title=title, body=body, **fields)


@pytest.fixture
def article():
    return KnowledgeArticleFactory(title="Reset your password", body="Choose *Forgot password*.")


def test_reader_gets_the_published_translation_in_their_language(article):
    _translate(article)
    shown = localize([article], "zh-hans")[0]
    assert (shown.shown_title, shown.shown_language, shown.untranslated) == (
        "重置密码",
        "zh-hans",
        False,
    )


def test_fallback_to_the_original_without_a_published_translation(article):
    _translate(article, language="zh-hant", title="重設密碼", is_published=False)
    for language in ("zh-hant", "zh-hans"):
        shown = localize([article], language)[0]
        assert (shown.shown_title, shown.untranslated) == ("Reset your password", True)
    shown = localize([article], "en")[0]
    assert (shown.shown_title, shown.untranslated) == ("Reset your password", False)


def test_an_unknown_language_gets_the_original_without_a_note(article):
    shown = localize([article], "xx-<script>")[0]
    assert (shown.shown_title, shown.untranslated) == ("Reset your password", False)


def test_localize_is_one_query_for_any_number_of_articles(article, django_assert_num_queries):
    articles = [article, *KnowledgeArticleFactory.create_batch(5)]
    for each in articles:
        _translate(each, title=f"文章 {each.pk}")
    with django_assert_num_queries(1):
        shown = localize(articles, "zh-hans")
    assert [a.shown_title for a in shown] == [f"文章 {a.pk}" for a in articles]


def test_no_translation_in_the_articles_own_language(article):
    with pytest.raises(Exception, match="written in this language"):
        _translate(article, language="en", title="Again")
    assert not ArticleTranslation.objects.exists()


def test_saving_again_replaces_the_translation(article):
    _translate(article)
    _translate(article, title="如何重置密码")
    assert list(ArticleTranslation.objects.values_list("title", flat=True)) == ["如何重置密码"]


# --- the help centre picks the language from the request ----------------------------------


def test_help_article_in_the_language_of_the_cookie(client, article, settings):
    _translate(article)
    url = reverse("help:article", args=[article.pk])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(url).content.decode()
    assert "重置密码" in page and "Reset your password" not in page
    assert 'id="untranslated-note"' not in page


def test_help_article_in_the_language_of_the_browser(client, article):
    _translate(article)
    page = client.get(
        reverse("help:article", args=[article.pk]), HTTP_ACCEPT_LANGUAGE="zh-Hans-CN,zh;q=0.9"
    ).content.decode()
    assert "重置密码" in page


def test_untranslated_article_says_it_is_shown_in_the_original(client, article, settings):
    _translate(article)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    page = client.get(reverse("help:article", args=[article.pk])).content.decode()
    assert 'id="untranslated-note"' in page and "Reset your password" in page


def test_help_search_and_popular_list_show_the_readers_language(client, article, settings):
    _translate(article)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "重置密码" in client.get(reverse("help:home")).content.decode()
    results = client.get(reverse("help:home"), {"q": "password"}).content.decode()
    assert "重置密码" in results and "忘记密码" in results  # title and excerpt


# --- search covers translations -----------------------------------------------------------


def test_search_finds_an_article_by_its_chinese_translation(article):
    KnowledgeArticleFactory(title="Delivery times", body="Two to four days.")
    _translate(article)
    assert list(search_articles(KnowledgeArticle.objects.all(), "重置密码")) == [article]


def test_search_finds_a_chinese_article_by_its_english_translation():
    chinese = KnowledgeArticleFactory(title="如何下载发票", body="打开订单。", language="zh-hans")
    KnowledgeArticleFactory(title="Delivery times", body="Two to four days.")
    _translate(chinese, language="en", title="Download an invoice", body="Open the order.")
    assert list(search_articles(KnowledgeArticle.objects.all(), "invoice")) == [chinese]


def test_search_ignores_draft_translations_and_lists_an_article_once(article):
    _translate(article, language="zh-hant", title="重設密碼", body="密碼", is_published=False)
    assert not search_articles(KnowledgeArticle.objects.all(), "重設").exists()
    _translate(article, title="密码", body="密码 密码")
    assert list(search_articles(KnowledgeArticle.objects.all(), "密码")) == [article]


def test_suggestions_use_translations(article):
    _translate(article)
    assert suggest_articles("我忘记了密码，怎么重置？") == [article]


# --- tickets ------------------------------------------------------------------------------


def test_help_centre_ticket_records_the_visitors_language(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    data = {"name": "Li", "email": "li@example.com", "subject": "密碼", "description": "忘記密碼"}
    client.post(reverse("help:submit"), {**data, "category": "question"})
    assert Ticket.objects.get().language == "zh-hant"


def test_related_articles_on_a_ticket_are_in_the_customers_language(agent, agent_client, article):
    _translate(article, body="请点击“忘记密码”重置您的密码。")
    ticket = ticket_create(
        customer=CustomerFactory(),
        subject="Reset password",
        description="I cannot reset my password",
        channel="web",
        language="zh-hans",
        created_by=agent,
    )
    page = agent_client.get(reverse("service:ticket-detail", args=[ticket.pk]))
    related = page.context["related"]
    assert related[0]["article"].shown_title == "重置密码"
    assert "忘记密码" in related[0]["text"]
    ticket.language = ""
    ticket.save(update_fields=["language"])
    page = agent_client.get(reverse("service:ticket-detail", args=[ticket.pk]))
    assert page.context["related"][0]["article"].shown_title == "Reset your password"


# --- the agents' editor -------------------------------------------------------------------


def _edit_url(article, language="zh-hans"):
    return reverse("knowledge:translation-edit", args=[article.pk, language])


def test_agent_translates_an_article_from_its_page(agent_client, article):
    detail = agent_client.get(reverse("knowledge:article-detail", args=[article.pk]))
    assert _edit_url(article) in detail.content.decode()
    assert _edit_url(article, "en") not in detail.content.decode()  # its own language
    response = agent_client.post(
        _edit_url(article), {"title": "  重置   密码 ", "body": "点击。", "is_published": "on"}
    )
    assert response.status_code == 302
    saved = ArticleTranslation.objects.get()
    assert (saved.language, saved.title, saved.is_published) == ("zh-hans", "重置 密码", True)
    page = agent_client.get(_edit_url(article)).content.decode()
    assert "重置 密码" in page and "Reset your password" in page  # the original beside it


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "body": "x"},
        {"title": "x\x00", "body": "x"},
        {"title": "x" * 201, "body": "x"},
        {"title": "ok", "body": "  "},
        {"title": "<script>", "body": "x" * 100_001},
    ],
)
def test_hostile_translation_input_gives_form_errors(agent_client, article, data):
    assert agent_client.post(_edit_url(article), data).status_code == 422
    assert not ArticleTranslation.objects.exists()


@pytest.mark.parametrize("language", ["en", "fr", "zh-hans\x00", "<script>", "٣", "x" * 300])
def test_translation_urls_refuse_languages_not_offered(agent_client, article, language):
    assert agent_client.get(_edit_url(article, language)).status_code == 404


def test_translation_of_a_missing_article_is_404(agent_client):
    assert (
        agent_client.get(reverse("knowledge:translation-edit", args=[10**9, "zh-hans"])).status_code
        == 404
    )


def test_translation_permissions(article, agent_client, rep_client, marketer_client, client):
    _translate(article)
    delete = reverse("knowledge:translation-delete", args=[article.pk, "zh-hans"])
    for forbidden in (rep_client, marketer_client):
        assert forbidden.get(_edit_url(article)).status_code == 403
        assert forbidden.post(_edit_url(article), {"title": "x", "body": "y"}).status_code == 403
        assert forbidden.post(delete).status_code == 403
    assert client.get(_edit_url(article)).status_code == 302  # anonymous: to the login page
    assert ArticleTranslation.objects.get().title == "重置密码"
    assert agent_client.post(delete).status_code == 302
    assert not ArticleTranslation.objects.exists()
    assert agent_client.post(delete).status_code == 404


def test_demo_ships_chinese_translations():
    seed_articles(rng=random.Random(1), users={"agent": UserFactory(username="demo-agent")})
    english = KnowledgeArticle.objects.filter(language="en")
    assert english.exists()
    for language in ("zh-hans", "zh-hant"):
        translated = ArticleTranslation.objects.filter(language=language, is_published=True)
        assert translated.filter(article__in=english).count() == english.count()
    chinese = KnowledgeArticle.objects.filter(language="zh-hans")
    assert chinese.exists()
    assert ArticleTranslation.objects.filter(article__in=chinese, language="en").count() == (
        chinese.count()
    )
    reset = KnowledgeArticle.objects.get(title="Reset your password")
    assert localize([reset], "zh-hant")[0].shown_title == "重設密碼"
