"""Knowledge base models (kept apart from models.py, which imports them, to keep files short)."""

import hashlib
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

CATEGORY_NAMES_CACHE = "service:category-names:{language}"


class ArticleCategory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")

    def __str__(self):
        return self.shown_name

    @property
    def shown_name(self) -> str:
        """The name in the reader's language when it has a translation, else as written."""
        return category_names(get_language()).get(self.pk, self.name)


class CategoryTranslation(models.Model):
    """A help-centre category's name in another language (categories are data, not msgids)."""

    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="translations",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["category", "language"]
        verbose_name = _("category translation")
        verbose_name_plural = _("category translations")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "language"], name="service_category_name_one_per_language"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.language})"


def category_names(language: str | None) -> dict[int, str]:
    """{category id: its name in `language`}: one query per language until a name changes
    (the few categories' names are read on every help page and in every article list)."""
    key = CATEGORY_NAMES_CACHE.format(language=language or "")
    names = cache.get(key)
    if names is None:
        names = dict(
            CategoryTranslation.objects.filter(language=language or "").values_list(
                "category_id", "name"
            )
        )
        cache.set(key, names, 3600)
    return names


# Suggested articles (knowledge.suggest_articles) kept per text under a generation that every
# write of an article or translation replaces.
SUGGESTIONS_GENERATION = "kb:suggestions-generation"
SUGGESTION_SECONDS = 600


def suggestions_key(text: str, limit: int) -> str:
    generation = cache.get(SUGGESTIONS_GENERATION)
    if generation is None:  # none yet, or evicted: a new one, never an old one's answers
        cache.add(SUGGESTIONS_GENERATION, secrets.token_hex(8), None)
        generation = cache.get(SUGGESTIONS_GENERATION) or "none"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"kb:suggestions:{generation}:{limit}:{digest}"


def forget_suggestions(**kwargs) -> None:
    """Connected to the saves and deletes of articles and their translations: a new
    generation now (what this transaction reads next must not be an older answer) and
    again after the commit (a page that read the old rows meanwhile kept them under the
    first new one)."""

    def new_generation() -> None:
        cache.set(SUGGESTIONS_GENERATION, secrets.token_hex(8), None)

    new_generation()
    transaction.on_commit(new_generation)


def forget_category_names(**kwargs) -> None:
    """Connected to the saves and deletes of categories and their translations. After the
    commit: a help page read before it would cache the old names again for an hour."""
    keys = [CATEGORY_NAMES_CACHE.format(language=code) for code, _name in settings.LANGUAGES]
    transaction.on_commit(lambda: cache.delete_many(keys))


class KnowledgeArticle(models.Model):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"), max_length=100_000)
    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
    )
    is_published = models.BooleanField(_("published"), default=False)
    # The language the title and body are written in; translations hold the others.
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        db_default=settings.LANGUAGE_CODE,
    )
    helpful_votes = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_votes = models.PositiveIntegerField(_("not helpful"), default=0)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="knowledge_articles",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [models.Index(fields=["is_published", "category", "title"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("knowledge:article-detail", args=[self.pk])


class ArticleTranslation(models.Model):
    """The article in another language; the help centre shows it to visitors reading in that
    language once it is published, and the original (with a note) until then."""

    article = models.ForeignKey(
        KnowledgeArticle,
        verbose_name=_("article"),
        on_delete=models.CASCADE,
        related_name="translations",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"), max_length=100_000)
    is_published = models.BooleanField(_("published"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["article", "language"]
        verbose_name = _("article translation")
        verbose_name_plural = _("article translations")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "language"], name="service_translation_one_per_language"
            )
        ]
        indexes = [models.Index(fields=["language", "is_published"])]

    def __str__(self):
        return f"{self.title} ({self.language})"

    def clean(self):
        super().clean()
        if self.article_id and self.language == self.article.language:
            raise ValidationError(
                {"language": _("The article itself is written in this language.")}
            )


class SuggestionOpen(models.Model):
    """A suggested article the self-service visitor opened; ticket_followed says if they still
    submitted a ticket in that visit (the rest are deflected tickets)."""

    article = models.ForeignKey(
        KnowledgeArticle, on_delete=models.CASCADE, related_name="suggestion_opens"
    )
    visit = models.CharField(max_length=64, db_index=True)  # a hash of the session key
    ticket_followed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suggestion opened")
        verbose_name_plural = _("suggestions opened")

    def __str__(self):
        return f"{self.article_id} {self.created_at:%Y-%m-%d}"
