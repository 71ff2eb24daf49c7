"""Self-service at /help/: public pages, no login, no staff navigation.

Every view is marked login_not_required. Abuse is limited by a honeypot field and a
per-IP rate limit; the ticket and rating pages are reached only through signed links.
"""

import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.attachment_forms import add_upload_refusals
from crm.lib.http import querystring_without
from crm.lib.params import parse_id
from crm.lib.ratelimit import FormLimits, client_ip, form_submission_allowed, rate_limit_hit
from crm.lib.signed_links import SignedLink
from crm.lib.upload_limits import accepts_uploads, attachment_limits
from service import knowledge as kb
from service import links, selectors, services
from service.knowledge_translations import localize, localize_one
from service.models import ArticleCategory, KnowledgeArticle, SatisfactionResponse, Ticket
from service.public_forms import (
    PUBLIC_MAX_FILE_BYTES,
    PUBLIC_MAX_FILES,
    CsatForm,
    HelpSearchForm,
    ReplyForm,
    SubmitForm,
)

RESULTS_PAGE_SIZE = 10
SUBMIT_LIMIT = (5, 10 * 60)  # submissions per IP per window (seconds)
# Per email address and for the whole form too: many addresses (a botnet) or one target
# address still meet a limit (crm/lib/ratelimit.py).
SUBMIT_LIMITS = FormLimits(
    per_address=SUBMIT_LIMIT, per_email=(5, 60 * 60), per_form=(500, 60 * 60)
)
REPLY_LIMIT = (20, 10 * 60)
SUGGEST_LIMIT = (300, 10 * 60)
RATE_LIMIT = (20, 10 * 60)
SUGGEST_TEXT_MAX = 3000
_RATABLE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
SUBMITTED_LINK = SignedLink(salt="service.help.submitted", max_age=timedelta(days=1))


def _published():
    return KnowledgeArticle.objects.filter(is_published=True)


def _category_param(request: HttpRequest) -> int | None:
    return parse_id(request.GET.get("category"))


@login_not_required
def help_home(request):
    form = HelpSearchForm(request.GET or None)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    category_id = _category_param(request)
    categories = list(
        ArticleCategory.objects.annotate(
            published=Count("articles", filter=Q(articles__is_published=True))
        )
        .filter(published__gt=0)
        .order_by("order", "name")
    )
    category = next((c for c in categories if c.pk == category_id), None)
    page = None
    if text or category:
        results = _published().select_related("category")
        if category:
            results = results.filter(category=category)
        results = kb.search_articles(results, text) if text else results.order_by("title", "id")
        page = Paginator(results, RESULTS_PAGE_SIZE).get_page(request.GET.get("page"))
        for article in localize(page, translation.get_language()):
            article.excerpt = kb.excerpt(article.shown_body)
    context = {
        "form": form,
        "text": text,
        "category": category,
        "categories": categories,
        "page": page,
        "query": querystring_without(request.GET, "page"),
        "popular": localize(
            _published().select_related("category").order_by("-view_count", "title")[:6],
            translation.get_language(),
        )
        if page is None
        else [],
    }
    return render(request, "service/help/home.html", context)


# Anonymous readers get cookies, never a session (a database row per visitor): the
# articles voted on, for the page to say so, and a random visit id that tells a deflected
# visit (a suggestion opened, no ticket sent) from a followed one.
VOTED_COOKIE = "help_voted"
VOTED_KEEP = 50
VISIT_COOKIE = "help_visit"
VISIT_SECONDS = 24 * 3600


def _voted(request: HttpRequest) -> list[int]:
    value = request.get_signed_cookie(VOTED_COOKIE, default="", salt=VOTED_COOKIE) or ""
    return [int(part) for part in value.split(",") if part.isascii() and part.isdigit()]


def _visit_token(request: HttpRequest) -> str:
    value = request.COOKIES.get(VISIT_COOKIE, "")
    return value if len(value) == 43 and value.replace("-", "").replace("_", "").isalnum() else ""


def _cookie_options() -> dict:
    return {"httponly": True, "samesite": "Lax", "secure": settings.SESSION_COOKIE_SECURE}


@login_not_required
def help_article(request, pk):
    article = get_object_or_404(_published().select_related("category"), pk=pk)
    client = client_ip(request)
    if kb.article_record_view(article=article, client=client):
        article.view_count += 1
    visit = _visit_token(request)
    if request.GET.get("from") == "suggest":
        visit = visit or secrets.token_urlsafe(32)
        kb.suggestion_open_record(article=article, visit_token=visit, client=client)
    localize_one(article, translation.get_language())
    context = {
        "article": article,
        "body_html": kb.render_markdown(article.shown_body),
        "voted": article.pk in _voted(request),
    }
    response = render(request, "service/help/article.html", context)
    if visit and visit != request.COOKIES.get(VISIT_COOKIE):
        response.set_cookie(VISIT_COOKIE, visit, max_age=VISIT_SECONDS, **_cookie_options())
    return response


@login_not_required
@require_POST
def help_vote(request, pk):
    article = get_object_or_404(_published(), pk=pk)
    helpful = request.POST.get("helpful")
    response = redirect(reverse("help:article", args=[article.pk]) + "#vote")
    if helpful in ("yes", "no"):
        kb.article_vote(article=article, client=client_ip(request), helpful=helpful == "yes")
        messages.success(request, _("Thank you for your feedback."))
        voted = [*[v for v in _voted(request) if v != article.pk], article.pk][-VOTED_KEEP:]
        response.set_signed_cookie(
            VOTED_COOKIE,
            ",".join(map(str, voted)),
            salt=VOTED_COOKIE,
            max_age=kb.VOTE_ONCE_SECONDS,
            **_cookie_options(),
        )
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def help_suggest(request):
    """Articles matching what the visitor is typing (an htmx fragment)."""
    data = request.POST if request.method == "POST" else request.GET
    text = f"{data.get('subject', '')} {data.get('description', '')}"[:SUGGEST_TEXT_MAX]
    limit, window = SUGGEST_LIMIT
    allowed = rate_limit_hit(
        "help-suggest", client_ip(request), limit=limit, window=window, fail_open=False
    )
    articles = kb.suggest_articles(text) if allowed and text.strip() else []
    localize(articles, translation.get_language())
    return render(request, "service/help/partials/suggestions.html", {"articles": articles})


@login_not_required
@require_http_methods(["GET", "POST"])
@accepts_uploads(
    attachment_limits(max_files=PUBLIC_MAX_FILES, max_file_bytes=PUBLIC_MAX_FILE_BYTES)
)
def help_submit(request):
    posted = request.method == "POST"
    form = SubmitForm(request.POST if posted else None, request.FILES if posted else None)
    if posted:
        if form.is_bot:
            return redirect("help:submitted")  # pretend: a bot learns nothing
        form.is_valid()
        add_upload_refusals(form, request, "attachments")
        if not form.errors:
            if not form_submission_allowed(
                request,
                "help-submit",
                email=form.cleaned_data["email"],
                limits=SUBMIT_LIMITS,
                fail_open=True,
            ):
                context = {"form": form, "rate_limited": True}
                return render(request, "service/help/submit.html", context, status=429)
            ticket = _submit(request, form)
            if ticket is not None:
                # The number travels signed: the thank-you page shows it to whoever sent it.
                token = SUBMITTED_LINK.make(ticket.number)
                return redirect(f"{reverse('help:submitted')}?{urlencode({'r': token})}")
    status = 422 if request.method == "POST" else 200
    return render(request, "service/help/submit.html", {"form": form}, status=status)


def _submit(request, form: SubmitForm) -> Ticket | None:
    data = form.cleaned_data
    try:
        ticket = services.ticket_submit_public(
            email=data["email"],
            name=data["name"],
            subject=data["subject"],
            description=data["description"],
            category=data["category"],
            files=[(checked.name, checked.upload) for checked in data["attachments"]],
            language=translation.get_language() or "",
        )
    except ValidationError as error:
        form.add_error(None, error)
        return None
    kb.suggestions_mark_followed(visit_token=_visit_token(request))
    return ticket


@login_not_required
def help_submitted(request):
    number = SUBMITTED_LINK.read(request.GET.get("r"))
    return render(request, "service/help/submitted.html", {"number": number})


def _bad_link(request, error: links.BadLink) -> HttpResponse:
    if error.expired:
        return render(request, "service/help/link_expired.html", status=410)
    return render(request, "service/help/bad_link.html", status=404)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def help_ticket(request, token):
    """The customer follows their ticket and replies: the public conversation only."""
    try:
        ticket = links.ticket_from_follow_token(token)
    except links.BadLink as error:
        return _bad_link(request, error)
    if request.method == "POST" and request.POST.get("action") == "verify":
        # A press, not the GET: a mail scanner opening the link proves nothing.
        services.ticket_sender_verify(ticket=ticket)
        messages.success(request, _("Thank you: your request is confirmed."))
        return redirect(request.path)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        limit, window = REPLY_LIMIT
        if not rate_limit_hit(
            "help-reply", client_ip(request), limit=limit, window=window, fail_open=True
        ):
            form.add_error(None, _("Too many messages from your network; try again later."))
            status = 429
        elif form.is_valid() and _reply(form, ticket):
            messages.success(request, _("Your reply was sent."))
            return redirect(request.path)
    context = {
        "ticket": ticket,
        "conversation": selectors.ticket_conversation(ticket, include_internal=False),
        "form": form,
        "can_reply": ticket.status != Ticket.Status.CLOSED,
    }
    return render(request, "service/help/ticket.html", context, status=status)


def _reply(form: ReplyForm, ticket: Ticket) -> bool:
    try:
        services.ticket_customer_reply(ticket=ticket, body=form.cleaned_data["body"])
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def help_rate(request, token):
    """The CSAT page: rate a resolved ticket 1-5 once, with an optional comment."""
    try:
        ticket = links.ticket_from_csat_token(token)
    except links.BadLink as error:
        return _bad_link(request, error)
    rating = SatisfactionResponse.objects.filter(ticket=ticket).first()
    form = CsatForm(request.POST or None)
    status = 200
    if rating is None and ticket.status in _RATABLE and request.method == "POST":
        status = 422
        limit, window = RATE_LIMIT
        if not rate_limit_hit(
            "help-rate", client_ip(request), limit=limit, window=window, fail_open=True
        ):
            form.add_error(None, _("Too many ratings from your network; try again later."))
            status = 429
        elif form.is_valid() and _rate(form, ticket):
            messages.success(request, _("Thank you for your rating!"))
            return redirect(request.path)
    context = {
        "ticket": ticket,
        "rating": rating,
        "ratable": ticket.status in _RATABLE,
        "form": form,
        "scores": range(1, 6),
    }
    return render(request, "service/help/csat.html", context, status=status)


def _rate(form: CsatForm, ticket: Ticket) -> bool:
    data = form.cleaned_data
    try:
        services.satisfaction_record(ticket=ticket, score=data["score"], comment=data["comment"])
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True
