"""An upload over the import limit is refused before its body is read (issue 13, point 8).
Fails on the code before, which read the whole body and then checked the file's size."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url_name", ["customers:customer-import", "sales:order-import"])
def test_a_declared_size_over_the_limit_is_refused_unread(manager_client, url_name):
    # The body holds a few bytes but declares 50 MB: reading it would fail the test client's
    # payload ("Cannot read more than the available bytes"), so a 413 proves nothing read it.
    declared = 50 * 1024 * 1024
    response = manager_client.post(
        reverse(url_name),
        data=b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(declared),
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert 'id="upload-too-large"' in page
    assert "50.0\xa0MB" in page and "5.0\xa0MB" in page


def test_an_upload_within_the_limit_reaches_the_form(manager_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", b"name,email\nLi Lei,li@example.com\n", "text/csv")
    response = manager_client.post(reverse("customers:customer-import"), {"file": upload})
    assert response.status_code in (200, 302)
