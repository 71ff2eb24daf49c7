"""Every page asked the server for /favicon.ico and got a 404 (issue 16)."""

from django.templatetags.static import static
from django.test import Client


def test_favicon_ico_redirects_to_the_icon_without_login(db, unhashed_static_files):
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("img/favicon.svg")


def test_every_page_links_the_icon(rep_client, unhashed_static_files):
    page = rep_client.get("/").content.decode()
    assert f'rel="icon" href="{static("img/favicon.svg")}"' in page
