"""The knowledge base: safe Markdown, ranked search, suggestions, and the article writes.

Search ranks with PostgreSQL full-text search: the title (weight A) and body (weight B)
vector is stored in the column `search_vector`, kept by a trigger and indexed with GIN
(migration 0004_knowledge_search). On SQLite, and for Chinese text (which has no spaces
between words), every word must appear in the title or the body; title matches come first.
"""

import hashlib
import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML

from crm.lib.ratelimit import rate_limit_hit
from service.knowledge_models import SUGGESTION_SECONDS, suggestions_key
from service.models import ArticleTranslation, KnowledgeArticle, SuggestionOpen

SEARCH_CONFIG = "simple"
MAX_QUERY_LENGTH = 200
MAX_SUGGEST_WORDS = 8
MAX_CJK_PIECES = 4  # substring matches cannot use an index: keep them few
DEFLECTION_DAYS = 30

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
# Pieces of Chinese text with these characters are grammar, not subject.
_CJK_FILLER = frozenset("的了是我你他她它们在和有也就都这那吗呢吧啊很一不")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
# Words that say nothing about the problem; suggestions ignore them.
_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before
    being both but by can cannot could did do does doing done down during each few for from
    get got had has have having he her here hers him his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our out over own please
    same she should so some such than thank thanks that the their them then there these they
    this those through to too under until up very was we were what when where which while who
    why will with would you your hello dear regards help problem issue""".split()  # noqa: SIM905
)


class _SafeLinksMarkdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:  # noqa: N802 - markdown-it's name
        return _is_safe_link(url)


def _markdown() -> MarkdownIt:
    md = _SafeLinksMarkdown("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _render_own_image)
    return md


def _is_own_image(src: str) -> bool:
    """Images from this site only: a relative URL, or one on CRM_BASE_URL's host. An image from
    another site would tell it who reads the article, and when (a tracking pixel)."""
    candidate = re.sub(r"[\x00-\x20\x7f]+", "", src)
    if candidate.startswith(("//", "\\")) or "\\" in candidate:
        return False
    parsed = urlsplit(candidate)
    if not parsed.scheme and not parsed.netloc:
        return True
    own = urlsplit(settings.CRM_BASE_URL)
    return parsed.scheme in ("http", "https") and parsed.netloc.lower() == own.netloc.lower()


def _render_own_image(renderer, tokens, idx, options, env) -> str:
    """markdown-it's image, or only its alt text when the image is from another site."""
    token = tokens[idx]
    if _is_own_image(str(token.attrGet("src") or "")):
        return RendererHTML.image(renderer, tokens, idx, options, env)
    return html.escape(renderer.renderInlineAsText(token.children or [], options, env))


def _is_safe_link(url: str) -> bool:
    """Relative links and web/mail/phone links only: no javascript:, data:, vbscript: ..."""
    candidate = re.sub(r"[\x00-\x20\x7f]+", "", url).lower()
    scheme = re.match(r"^[a-z][a-z0-9+.-]*:", candidate)
    return scheme is None or scheme.group(0) in _SAFE_SCHEMES


_MD = _markdown()


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML in which raw HTML is escaped and unsafe links are left as text."""
    rendered = _MD.render(text or "")
    # Links to other sites must not get this page's referrer or a handle on its window.
    rendered = rendered.replace('<a href="http', '<a rel="nofollow noopener noreferrer" href="http')
    return mark_safe(rendered)  # noqa: S308 - markdown-it escapes every raw HTML tag (html=False)


def excerpt(text: str, length: int = 160) -> str:
    """Plain text of the start of an article's Markdown, for result lists."""
    plain = html.unescape(strip_tags(render_markdown((text or "")[:2000])))
    return Truncator(" ".join(plain.split())).chars(length)  # escaped by the template


def article_plain_text(text: str, length: int = 5000) -> str:
    """An article's Markdown as plain text with its paragraphs, for a reply to a customer."""
    rendered = render_markdown((text or "")[: length * 2])
    blocks = re.sub(r"(</(?:h[1-6]|p|ul|ol|blockquote|pre)>)", r"\1\n", rendered)
    plain = html.unescape(strip_tags(blocks))
    lines = "\n".join(" ".join(line.split()) for line in plain.splitlines()).strip()
    return Truncator(re.sub(r"\n{3,}", "\n\n", lines)).chars(length)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def clean_query(text: str) -> str:
    return " ".join((text or "").replace("\x00", " ").split())[:MAX_QUERY_LENGTH]


# --- search -------------------------------------------------------------------------------


def _vector() -> RawSQL:
    """The stored vector: setweight(title, 'A') || setweight(body, 'B'), config "simple"."""
    table = KnowledgeArticle._meta.db_table
    column = f'"{table}"."search_vector"'  # a fixed name, no user input
    return RawSQL(column, [], output_field=SearchVectorField())  # noqa: S611


def _full_text_available() -> bool:
    return connection.vendor == "postgresql"


def _split(words: list[str]) -> tuple[list[str], list[str]]:
    """(words for full-text search, Chinese pieces for substring search)."""
    if not _full_text_available():
        return [], words
    return [w for w in words if not has_cjk(w)], [w for w in words if has_cjk(w)]


# Articles found through their translations, per search (a help centre has hundreds).
MAX_TRANSLATED_MATCHES = 500


def _contains(field: str, word: str) -> Q:
    # Chinese has no letter case: LIKE is ~9x cheaper than icontains' UPPER() LIKE.
    return Q(**{f"{field}__{'contains' if has_cjk(word) else 'icontains'}": word})


def _in_article(word: str) -> Q:
    return _contains("title", word) | _contains("body", word) | _in_translation(word)


def _in_translation(word: str) -> Q:
    """A published translation of the article has the word (a visitor may search in any
    language the help centre offers). A subquery, so an article is never listed twice."""
    translations = ArticleTranslation.objects.filter(is_published=True).filter(
        _contains("title", word) | _contains("body", word)
    )
    return Q(pk__in=translations.values("article_id"))


def _translated_article_ids(words: list[str]) -> list[int]:
    """The articles with a published translation holding any of `words`, read first: an
    IN (subquery) beside the full-text match kept PostgreSQL from its GIN index (a scan
    of every article); a short list of ids ORs with the index's bitmap."""
    found = Q()
    for word in words:
        found |= _contains("title", word) | _contains("body", word)
    rows = ArticleTranslation.objects.filter(found, is_published=True)
    return list(rows.values_list("article_id", flat=True).distinct()[:MAX_TRANSLATED_MATCHES])


def _strict_syntax(text: str) -> bool:
    """A quoted phrase or an excluded word: the visitor asked for web-search rules."""
    return '"' in text or any(len(word) > 1 and word[0] == "-" for word in text.split())


def search_articles(queryset: QuerySet, text: str) -> QuerySet:
    """`queryset` narrowed to the articles matching SOME of the words of `text`, best first:
    those matching more of them (in the title above all), then by full-text rank.

    "parcel damaged refund" finds an article about any of the three. Chinese, written
    without spaces, is matched by its two-character pieces ("重置密码": 重置, 密码);
    SQLite, which has no full-text search, matches every word as a substring. A quoted
    phrase or a -word keeps PostgreSQL's web-search rules (every word must match).
    """
    text = clean_query(text)
    if not text:
        return queryset
    if _full_text_available() and _strict_syntax(text) and not has_cjk(text):
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return _full_text(queryset, query).order_by("-rank", "title", "id")
    words = significant_words(text) or [w.lower()[:40] for w in text.split()[:MAX_SUGGEST_WORDS]]
    latin, pieces = _split(words)
    matches = Q()
    scores = [_title_or_body_score(word) for word in pieces]
    for word in pieces:
        matches |= _in_article(word)
    rank: Value | SearchRank = Value(0.0)
    if latin:
        queryset = queryset.alias(search=_vector())
        for word in latin:
            one = SearchQuery(word, search_type="plain", config=SEARCH_CONFIG)
            scores.append(Case(When(search=one, then=Value(2)), default=Value(0)))
        matches |= Q(pk__in=_translated_article_ids(latin))
        any_word = SearchQuery(" or ".join(latin), search_type="websearch", config=SEARCH_CONFIG)
        matches |= Q(search=any_word)
        rank = SearchRank(_vector(), any_word)
    score = sum(scores, start=Value(0))
    return (
        queryset.filter(matches)
        .annotate(score=score, rank=rank)
        .order_by("-score", "-rank", "-view_count", "title", "id")
    )


def _title_or_body_score(word: str) -> Case:
    return Case(
        When(_contains("title", word), then=Value(3)),
        When(_in_translation(word), then=Value(2)),
        When(_contains("body", word), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _full_text(queryset: QuerySet, query: SearchQuery) -> QuerySet:
    vector = _vector()
    return (
        queryset.alias(search=vector).filter(search=query).annotate(rank=SearchRank(vector, query))
    )


def significant_words(text: str, limit: int = MAX_SUGGEST_WORDS) -> list[str]:
    """The words of a ticket's text most likely to name its subject: long, not stopwords.

    A run of Chinese characters becomes its two-character pieces (most Chinese words have
    two), less those with a particle or pronoun (的, 了, 我 ...), which say nothing.
    """
    text = (text or "").replace("\x00", " ")[:5000].lower()
    seen: dict[str, int] = {}
    for position, word in enumerate(_WORD.findall(text)):
        for piece in _pieces(word):
            if piece not in seen:
                seen[piece] = position
    ranked = sorted(seen, key=lambda w: (-_weight(w), seen[w]))
    return ranked[:limit]


def _pieces(word: str) -> list[str]:
    if not has_cjk(word):
        if len(word) < 3 or word in _STOPWORDS or word.isdigit():
            return []
        return [word[:40]]
    pieces: list[str] = []
    for run in _CJK_RUN.findall(word):
        pairs = (run[i : i + 2] for i in range(max(len(run) - 1, 1)))
        pieces.extend(p for p in pairs if not _CJK_FILLER.intersection(p))
    rest = _CJK_RUN.sub(" ", word).split()
    return pieces + [w for part in rest for w in _pieces(part)]


def _weight(word: str) -> int:
    # Chinese pairs are as telling as a long English word.
    return 8 if has_cjk(word) else len(word)


def suggest_articles(text: str, *, limit: int = 5) -> list[KnowledgeArticle]:
    """Published articles closest to a ticket's subject and description.

    The significant words are ORed, so a long text still finds articles that share only
    some of its words; articles sharing more Chinese pieces (in the title above all), then
    ranking higher in full-text search, come first.

    The answer's ids are kept in the cache per text (a ticket's page is opened again and
    again, and building this query was a fifth of that page's CPU; issue 18) until any
    article or translation is saved or deleted (knowledge_models.forget_suggestions), or
    for SUGGESTION_SECONDS: views reorder ties meanwhile, nothing else. Kept ids are read
    back as published articles only.
    """
    key = suggestions_key(text, limit)
    kept = cache.get(key)
    if kept is not None:
        found = KnowledgeArticle.objects.filter(is_published=True).select_related("category")
        by_id = found.in_bulk(kept)
        return [by_id[pk] for pk in kept if pk in by_id]
    articles = _ranked_suggestions(text, limit)
    cache.set(key, [article.pk for article in articles], SUGGESTION_SECONDS)
    return articles


def _ranked_suggestions(text: str, limit: int) -> list[KnowledgeArticle]:
    words = significant_words(text)
    if not words:
        return []
    latin, pieces = _split(words)
    pieces = pieces[:MAX_CJK_PIECES] if latin else pieces
    articles = KnowledgeArticle.objects.filter(is_published=True).select_related("category")
    matches = Q()
    for word in pieces:
        matches |= _in_article(word)
    rank: Value | SearchRank = Value(0.0)
    if latin:
        query = SearchQuery(" or ".join(latin), search_type="websearch", config=SEARCH_CONFIG)
        articles = articles.alias(search=_vector())
        matches |= Q(search=query)
        for word in latin:
            matches |= _in_translation(word)
        rank = SearchRank(_vector(), query)
    score = sum((_title_or_body_score(word) for word in pieces), start=Value(0))
    ranked = articles.filter(matches).annotate(score=score, rank=rank)
    return list(ranked.order_by("-score", "-rank", "-view_count", "id")[:limit])


# --- writes (agents) ----------------------------------------------------------------------


@transaction.atomic
def article_create(
    *, title, body, category, is_published, author, language=settings.LANGUAGE_CODE
) -> KnowledgeArticle:
    article = KnowledgeArticle(
        title=title,
        body=body,
        category=category,
        is_published=is_published,
        author=author,
        language=language,
    )
    article.full_clean()
    article.save()
    return article


@transaction.atomic
def article_update(
    *, article, title, body, category, is_published, language=None
) -> KnowledgeArticle:
    article.title, article.body = title, body
    article.category, article.is_published = category, is_published
    article.language = language or article.language
    if article.translations.filter(language=article.language).exists():
        raise ValidationError(
            {"language": _("The article has a translation in this language: delete it first.")}
        )
    article.full_clean()
    fields = ["title", "body", "category", "is_published", "language", "updated_at"]
    article.save(update_fields=fields)
    return article


@transaction.atomic
def article_delete(*, article) -> None:
    article.delete()


# --- writes (self-service visitors) -------------------------------------------------------
# Anonymous readers get no session (a database row per visitor would let anyone fill the
# table). A view or vote is remembered per client address in the cache instead, through
# crm.lib.ratelimit: once per article and address in a window, and a cap per address, so
# a script reloading a page neither inflates the counts nor writes a row per request.
# These fail closed: while the cache is unreachable nothing is counted, which costs
# nothing but a few views.
VIEW_ONCE_SECONDS = 24 * 3600
VIEWS_PER_CLIENT = (100, 3600)  # counted views per address per window (seconds)
VOTE_ONCE_SECONDS = 30 * 24 * 3600
VOTES_PER_CLIENT = (20, 3600)
SUGGESTION_OPENS_PER_CLIENT = (30, 3600)


def _first_time(purpose: str, client: str, *, once_seconds: int, cap: tuple[int, int]) -> bool:
    """True for the first `purpose` of this client in `once_seconds`, within the cap."""
    limit, window = cap
    if not rate_limit_hit(purpose, client, limit=1, window=once_seconds, fail_open=False):
        return False
    base = purpose.split(":", 1)[0]
    return rate_limit_hit(base, client, limit=limit, window=window, fail_open=False)


def article_record_view(*, article, client: str) -> bool:
    """Count one view per client address and article a day (an F() update: no lost counts)."""
    purpose = f"help-view:{article.pk}"
    if not _first_time(purpose, client, once_seconds=VIEW_ONCE_SECONDS, cap=VIEWS_PER_CLIENT):
        return False
    KnowledgeArticle.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)
    return True


def article_vote(*, article, client: str, helpful: bool) -> bool:
    """One "was this helpful?" vote per client address and article; False when refused."""
    purpose = f"help-vote:{article.pk}"
    if not _first_time(purpose, client, once_seconds=VOTE_ONCE_SECONDS, cap=VOTES_PER_CLIENT):
        return False
    field = "helpful_votes" if helpful else "not_helpful_votes"
    KnowledgeArticle.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
    return True


def visit_id(visit_token: str) -> str:
    """The visitor's anonymous id: a hash of the random token in their visit cookie."""
    return hashlib.sha256(visit_token.encode()).hexdigest()


@transaction.atomic
def suggestion_open_record(*, article, visit_token: str, client: str) -> SuggestionOpen | None:
    """A suggested article opened from the submission form, once per visit and article."""
    limit, window = SUGGESTION_OPENS_PER_CLIENT
    if not rate_limit_hit(
        "help-suggestion-open", client, limit=limit, window=window, fail_open=False
    ):
        return None
    visit = visit_id(visit_token)
    if SuggestionOpen.objects.filter(article=article, visit=visit).exists():
        return None
    opened = SuggestionOpen(article=article, visit=visit)
    opened.full_clean()
    opened.save()
    return opened


def suggestions_mark_followed(*, visit_token: str) -> int:
    """The visitor submitted a ticket after all: their opened suggestions did not deflect it."""
    if not visit_token:
        return 0
    return SuggestionOpen.objects.filter(visit=visit_id(visit_token), ticket_followed=False).update(
        ticket_followed=True
    )


def deflected_count(*, days: int = DEFLECTION_DAYS, now=None) -> int:
    """Visits in the last `days` that opened a suggestion and submitted no ticket."""
    since = (now or timezone.now()) - timedelta(days=days)
    followed = SuggestionOpen.objects.filter(created_at__gte=since, ticket_followed=True)
    return (
        SuggestionOpen.objects.filter(created_at__gte=since, ticket_followed=False)
        .exclude(visit__in=followed.values("visit"))
        .values("visit")
        .distinct()
        .count()
    )
