"""Knowledge articles in the reader's language: choosing the translation, and its writes.

An article is written in one language (`KnowledgeArticle.language`); its translations
(`ArticleTranslation`) hold the others. A reader gets the published translation in their
language, else the original, marked `untranslated` so the page can say so.
"""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction

from service.models import ArticleTranslation, KnowledgeArticle


def supported_language(code: str | None) -> str:
    """`code` when the site offers it, else "" (unknown: readers get the original)."""
    return code if code in dict(settings.LANGUAGES) else ""


def localize(articles: Iterable[KnowledgeArticle], language: str | None) -> list:
    """The articles with `shown_title`, `shown_body`, `shown_language` and `untranslated` set
    for a reader of `language`, in one query for all of them."""
    articles = list(articles)
    language = supported_language(language)
    wanted = [a.pk for a in articles if language and a.language != language]
    translations = {
        t.article_id: t
        for t in ArticleTranslation.objects.filter(
            article_id__in=wanted, language=language, is_published=True
        ).only("article_id", "title", "body", "language")
    }
    for article in articles:
        _show(article, translations.get(article.pk), language)
    return articles


def _show(article: Any, translation: ArticleTranslation | None, language: str) -> None:
    """Sets the shown_* attributes (display only: the article is never saved with them)."""
    source = translation or article
    article.shown_title = source.title
    article.shown_body = source.body
    article.shown_language = source.language
    article.untranslated = bool(language) and source.language != language


def localize_one(article: KnowledgeArticle, language: str | None) -> KnowledgeArticle:
    return localize([article], language)[0]


def translation_languages(article: KnowledgeArticle) -> list[tuple[str, str]]:
    """The languages an article may be translated into: every offered one but its own."""
    return [(code, str(name)) for code, name in settings.LANGUAGES if code != article.language]


@transaction.atomic
def translation_save(
    *, article: KnowledgeArticle, language: str, title: str, body: str, is_published: bool
) -> ArticleTranslation:
    """Create or replace the article's translation into `language`."""
    translation = (
        ArticleTranslation.objects.select_for_update()
        .filter(article=article, language=language)
        .first()
    ) or ArticleTranslation(article=article, language=language)
    translation.title, translation.body, translation.is_published = title, body, is_published
    translation.full_clean()
    translation.save()
    return translation


@transaction.atomic
def translation_delete(*, translation: ArticleTranslation) -> None:
    translation.delete()
