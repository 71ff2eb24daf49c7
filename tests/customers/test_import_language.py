"""A background customer import writes its row errors in its starter's language (issue 16)."""

import pytest

from tests.customers.test_import import apply, csv_bytes, upload_ok

pytestmark = pytest.mark.django_db


def test_the_background_import_writes_row_errors_in_the_language_of_who_started_it(
    manager_client, settings
):
    """The job runs without a request: its row errors were English on a Chinese page
    (issue 16)."""
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    rows = [["name", "email"], ["One", "one@example.com"], ["Two", "not-an-email"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, customer_import, "valid_only")
    assert customer_import.language == "zh-hans"
    [message] = customer_import.row_errors[0]["errors"]["email"]
    assert message == "请输入合法的邮件地址。"  # Django's own Chinese message
