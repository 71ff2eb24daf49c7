"""The agents' knowledge base: list with search, detail, create, edit, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm.lib.http import querystring_without
from service import knowledge as kb
from service.knowledge import DEFLECTION_DAYS, render_markdown
from service.knowledge_forms import ArticleForm, ArticleListForm, PreviewForm, TranslationForm
from service.knowledge_translations import (
    translation_delete,
    translation_languages,
    translation_save,
)
from service.models import ArticleTranslation, KnowledgeArticle

PAGE_SIZE = 25


def _articles(form: ArticleListForm):
    articles = KnowledgeArticle.objects.select_related("category")
    if not form.is_valid():
        return articles.order_by("title", "id")
    data = form.cleaned_data
    if data["category"]:
        articles = articles.filter(category=data["category"])
    if data["published"]:
        articles = articles.filter(is_published=data["published"] == "yes")
    if data["q"]:
        articles = kb.search_articles(articles, data["q"])
    sort = ArticleListForm.SORTS.get(data["sort"])
    if sort:
        articles = articles.alias(helpfulness=F("helpful_votes") - F("not_helpful_votes"))
        articles = articles.order_by(*sort)
    elif not data["q"]:
        articles = articles.order_by("title", "id")
    return articles


@permission_required("service.view_knowledgearticle", raise_exception=True)
def article_list(request):
    form = ArticleListForm(request.GET or None)
    page = Paginator(_articles(form), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query": querystring_without(request.GET, "page"),
        "filtered": any(request.GET.get(k) for k in ("q", "category", "published")),
        "deflected": kb.deflected_count(),
        "deflection_days": DEFLECTION_DAYS,
    }
    return render(request, "service/knowledge/article_list.html", context)


@permission_required("service.view_knowledgearticle", raise_exception=True)
def article_detail(request, pk):
    article = get_object_or_404(
        KnowledgeArticle.objects.select_related("category", "author"), pk=pk
    )
    existing = {t.language: t for t in article.translations.all()}
    translations = [
        {"code": code, "name": name, "translation": existing.get(code)}
        for code, name in translation_languages(article)
    ]
    context = {
        "article": article,
        "body_html": render_markdown(article.body),
        "translations": translations,
    }
    return render(request, "service/knowledge/article_detail.html", context)


def _save(request, form: ArticleForm, article: KnowledgeArticle | None):
    data = form.cleaned_data
    fields = {k: data[k] for k in ("title", "body", "category", "is_published", "language")}
    try:
        if article is None:
            return kb.article_create(author=request.user, **fields)
        return kb.article_update(article=article, **fields)
    except ValidationError as error:
        form.add_error(None, error)
        return None


@permission_required("service.add_knowledgearticle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def article_create_view(request):
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        article = _save(request, form, None)
        if article:
            messages.success(request, _("Article “%(title)s” created.") % {"title": article.title})
            return redirect("knowledge:article-detail", pk=article.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "service/knowledge/article_form.html",
        {"form": form, "article": None},
        status=status,
    )


@permission_required("service.change_knowledgearticle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def article_edit(request, pk):
    article = get_object_or_404(KnowledgeArticle, pk=pk)
    saved_title = article.title  # binding the form writes the posted values onto `article`
    form = ArticleForm(request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid() and _save(request, form, article):
        messages.success(request, _("Changes to “%(title)s” saved.") % {"title": article.title})
        return redirect("knowledge:article-detail", pk=pk)
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "article": article, "saved_title": saved_title}
    return render(request, "service/knowledge/article_form.html", context, status=status)


@permission_required("service.delete_knowledgearticle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def article_delete_view(request, pk):
    article = get_object_or_404(KnowledgeArticle, pk=pk)
    if request.method == "POST":
        kb.article_delete(article=article)
        messages.success(request, _("Article “%(title)s” deleted.") % {"title": article.title})
        return redirect("knowledge:article-list")
    return render(request, "service/knowledge/article_confirm_delete.html", {"article": article})


@permission_required("service.view_knowledgearticle", raise_exception=True)
@require_POST
def article_preview(request):
    """The Markdown preview of the edit form (an htmx fragment)."""
    form = PreviewForm(request.POST)
    body = form.cleaned_data["body"] if form.is_valid() else ""
    context = {"body_html": render_markdown(body), "invalid": not form.is_valid()}
    return render(request, "service/knowledge/partials/preview.html", context)


def _translatable(pk: int, language: str) -> tuple[KnowledgeArticle, ArticleTranslation | None]:
    """The article and its translation into `language` (None yet); 404 for a language the
    site does not offer or the article's own."""
    article = get_object_or_404(KnowledgeArticle, pk=pk)
    if language not in dict(translation_languages(article)):
        raise Http404
    return article, article.translations.filter(language=language).first()


@permission_required("service.change_knowledgearticle", raise_exception=True)
@require_http_methods(["GET", "POST"])
def translation_edit(request, pk, language):
    article, translation = _translatable(pk, language)
    form = TranslationForm(request.POST or None, instance=translation)
    if request.method == "POST" and form.is_valid():
        try:
            translation_save(article=article, language=language, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Translation saved."))
            return redirect("knowledge:article-detail", pk=pk)
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "article": article,
        "translation": translation,
        "language_name": dict(translation_languages(article))[language],
        "original_html": render_markdown(article.body),
    }
    return render(request, "service/knowledge/translation_form.html", context, status=status)


@permission_required("service.change_knowledgearticle", raise_exception=True)
@require_POST
def translation_delete_view(request, pk, language):
    article, translation = _translatable(pk, language)
    if translation is None:
        raise Http404
    translation_delete(translation=translation)
    messages.success(request, _("Translation deleted."))
    return redirect("knowledge:article-detail", pk=article.pk)
