"""The public help center: no login, no staff navigation, published articles only, views and
votes once per session, suggestions while typing, and the submission form against hostile
input and bots."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from customers.models import Customer
from service.models import ArticleCategory, KnowledgeArticle, SuggestionOpen, Ticket
from tests.factories import CustomerFactory, KnowledgeArticleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


VALID = {
    "name": "Li Wei",
    "email": "li.wei@example.com",
    "subject": "Cannot print invoices",
    "description": "The print button does nothing.",
    "category": "question",
}


def test_public_pages_need_no_login_and_show_no_staff_navigation(client, agent):
    article = KnowledgeArticleFactory()
    for url in [
        reverse("help:home"),
        reverse("help:home") + "?q=fix",
        reverse("help:article", args=[article.pk]),
        reverse("help:submit"),
        reverse("help:submitted"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "Main navigation" not in page and "/customers/" not in page, url
    # Even a logged-in agent gets the public layout there.
    client.force_login(agent)
    assert "Main navigation" not in client.get(reverse("help:home")).content.decode()


def test_home_searches_browses_categories_and_lists_popular_articles(client):
    billing = ArticleCategory.objects.create(name="Billing")
    ArticleCategory.objects.create(name="Empty")
    KnowledgeArticleFactory(title="Pay by card", category=billing, view_count=50)
    KnowledgeArticleFactory(title="Pay later draft", category=billing, is_published=False)
    KnowledgeArticleFactory(title="Return a parcel", view_count=3)
    home = client.get(reverse("help:home")).content.decode()
    assert home.index("Pay by card") < home.index("Return a parcel")  # most viewed first
    assert "Pay later draft" not in home
    assert "Billing" in home and "Empty" not in home  # only categories with articles
    found = client.get(reverse("help:home"), {"q": "pay"}).content.decode()
    assert "Pay by card" in found and "Pay later draft" not in found
    browsed = client.get(reverse("help:home"), {"category": billing.pk}).content.decode()
    assert "Pay by card" in browsed and "Return a parcel" not in browsed
    none = client.get(reverse("help:home"), {"q": "zzzz"}).content.decode()
    assert "No article matches your search." in none


@pytest.mark.parametrize(
    "params", [{"q": "\x00"}, {"q": "<script>alert(1)</script>"}, {"category": "1e99"},
               {"category": "9" * 30}, {"q": "x" * 300}, {"page": "-1", "q": "a"}],
)  # fmt: skip
def test_home_with_hostile_parameters(client, params):
    response = client.get(reverse("help:home"), params)
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()


def test_drafts_are_not_public(client):
    draft = KnowledgeArticleFactory(is_published=False)
    assert client.get(reverse("help:article", args=[draft.pk])).status_code == 404
    assert client.post(reverse("help:vote", args=[draft.pk]), {"helpful": "yes"}).status_code == 404


def test_article_counts_one_view_per_address(client):
    article = KnowledgeArticleFactory(body="**Step one**\n\n<script>alert(1)</script>")
    url = reverse("help:article", args=[article.pk])
    page = client.get(url).content.decode()
    assert "<strong>Step one</strong>" in page and "<script>alert(1)" not in page
    client.get(url)
    article.refresh_from_db()
    assert article.view_count == 1
    from django.test import Client

    Client(REMOTE_ADDR="10.1.2.3").get(url)
    article.refresh_from_db()
    assert article.view_count == 2


def test_vote_once_per_address(client):
    article = KnowledgeArticleFactory()
    url = reverse("help:vote", args=[article.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"helpful": "yes"}, follow=True)
    assert "Thank you for your feedback." in response.content.decode()
    client.post(url, {"helpful": "no"})
    client.post(url, {"helpful": "\x00"})
    article.refresh_from_db()
    assert (article.helpful_votes, article.not_helpful_votes) == (1, 0)
    assert (
        "Was this helpful?"
        not in client.get(reverse("help:article", args=[article.pk])).content.decode()
    )


def test_suggestions_while_typing(client):
    KnowledgeArticleFactory(title="Print an invoice", body="Use the print button.")
    KnowledgeArticleFactory(title="Unrelated", body="Nothing.")
    response = client.post(
        reverse("help:suggest"), {"subject": "invoice printing", "description": "<script>"}
    )
    page = response.content.decode()
    assert "Print an invoice" in page and "Unrelated" not in page
    assert "?from=suggest" in page
    empty = client.post(reverse("help:suggest"), {"subject": "", "description": ""})
    assert "No matching article yet" in empty.content.decode()
    assert client.get(reverse("help:suggest"), {"subject": "\x00" * 10}).status_code == 200


def test_opened_suggestion_then_submission_is_not_deflected(client):
    article = KnowledgeArticleFactory()
    client.get(reverse("help:article", args=[article.pk]), {"from": "suggest"})
    client.get(reverse("help:article", args=[article.pk]), {"from": "suggest"})
    opened = SuggestionOpen.objects.get()
    assert not opened.ticket_followed and len(opened.visit) == 64
    assert opened.visit != client.cookies["help_visit"].value  # a hash, not the cookie
    client.post(reverse("help:submit"), VALID)
    opened.refresh_from_db()
    assert opened.ticket_followed


def test_opening_an_article_outside_suggestions_records_nothing(client):
    client.get(reverse("help:article", args=[KnowledgeArticleFactory().pk]))
    assert not SuggestionOpen.objects.exists()


def test_submission_creates_the_ticket_and_emails_the_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("help:submit"), VALID)
    assert response.status_code == 302 and response.url.startswith(reverse("help:submitted"))
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.channel, ticket.requester_email) == (
        "Cannot print invoices", "web", "li.wei@example.com",
    )  # fmt: skip
    assert len(mail.outbox) == 1 and "/help/tickets/" in mail.outbox[0].body


def test_thank_you_page_does_not_reveal_a_known_customer(client):
    CustomerFactory(email="known@example.com")
    known = client.post(
        reverse("help:submit"), {**VALID, "email": "known@example.com"}, follow=True
    )
    unknown = client.post(
        reverse("help:submit"), {**VALID, "email": "new@example.com"}, follow=True
    )
    main = re.compile(r"<main.*</main>", re.S)
    known_main, unknown_main = (
        re.sub(r"T-\d{6}", "T-n", main.search(page.content.decode())[0])
        for page in (known, unknown)
    )
    assert known_main == unknown_main
    assert Customer.objects.filter(email__iexact="known@example.com").count() == 1


def test_honeypot_pretends_success_and_creates_nothing(client):
    response = client.post(reverse("help:submit"), {**VALID, "website": "http://spam.example"})
    assert response.status_code == 302 and response.url == reverse("help:submitted")
    assert not Ticket.objects.exists() and not Customer.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address."),
        ("email", "a@b\x00.com", "Null characters are not allowed."),
        ("name", "Li\x00Wei", "Null characters are not allowed."),
        ("name", "   ", "This field is required."),
        (
            "subject",
            "<script>alert(1)</script>" * 10,
            "Keep it under 200 characters (this text has 250).",
        ),
        ("name", "x" * 201, "Keep it under 200 characters (this text has 201)."),
        ("description", "x" * 100_000, "Keep it under 20000 characters (this text has 100000)."),
        ("description", "\x00", "Null characters are not allowed."),
        ("category", "drop table", "Select a valid choice."),
    ],
)
def test_hostile_submissions_give_form_errors(client, field, value, message):
    response = client.post(reverse("help:submit"), {**VALID, field: value})
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert "<script>alert(1)" not in page
    assert not Ticket.objects.exists()


def test_binary_upload_instead_of_text_is_a_form_error(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {**VALID, "description": SimpleUploadedFile("x.bin", b"\x00\xff" * 100)}
    response = client.post(reverse("help:submit"), data)
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_articles_page_escapes_titles(client):
    article = KnowledgeArticleFactory(title="<img src=x onerror=alert(1)>")
    page = client.get(reverse("help:article", args=[article.pk])).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert KnowledgeArticle.objects.get().view_count == 1


def test_help_pages_make_a_constant_number_of_queries(client, django_assert_max_num_queries):
    categories = [ArticleCategory.objects.create(name=f"C{n}") for n in range(3)]

    def add(count):
        for n in range(count):
            KnowledgeArticleFactory(title=f"Fix printer {n}", category=categories[n % 3])

    add(3)
    article = KnowledgeArticle.objects.first()
    urls = [
        reverse("help:home"),
        reverse("help:home") + "?q=printer",
        reverse("help:home") + f"?category={categories[0].pk}",
        reverse("help:article", args=[article.pk]),
    ]
    for _round in range(2):
        for url in urls:
            with django_assert_max_num_queries(8):
                assert client.get(url).status_code == 200
        with django_assert_max_num_queries(2):
            client.post(reverse("help:suggest"), {"subject": "printer fix"})
        add(30)


def test_search_results_show_a_plain_text_excerpt(client):
    KnowledgeArticleFactory(title="Printer help", body="**Restart** the <script>x</script> printer")
    page = client.get(reverse("help:home"), {"q": "printer"}).content.decode()
    assert "Restart the &lt;script&gt;x&lt;/script&gt; printer" in page
    assert "**Restart**" not in page and "<script>x" not in page


def test_huge_ids_are_not_found(client, agent_client):
    huge = 10**30
    assert client.get(reverse("help:article", args=[huge])).status_code == 404
    assert client.post(reverse("help:vote", args=[huge]), {"helpful": "yes"}).status_code == 404
    for name in ("article-detail", "article-edit"):
        assert agent_client.get(reverse(f"knowledge:{name}", args=[huge])).status_code == 404


def test_thank_you_page_shows_the_request_number_to_the_sender_only(client):
    response = client.post(reverse("help:submit"), VALID, follow=True)
    ticket = Ticket.objects.get()
    assert ticket.number in response.content.decode()
    assert 'id="request-number"' in response.content.decode()
    # The number is signed: a made-up or altered one shows nothing.
    for forged in (ticket.number, "T-000001:abc:def", "\x00", "x" * 5000):
        page = client.get(reverse("help:submitted"), {"r": forged})
        assert page.status_code == 200 and 'id="request-number"' not in page.content.decode()
