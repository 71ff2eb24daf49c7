"""English, Simplified and Traditional Chinese: every catalogue entry translated and used."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import translation

from tests.factories import CustomerFactory

LOCALES = ["zh_Hans", "zh_Hant"]


def catalogue_entries(locale: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs of the committed .po file, plural forms folded into msgstr."""
    text = (Path(settings.BASE_DIR) / "locale" / locale / "LC_MESSAGES" / "django.po").read_text(
        "utf-8"
    )
    entries = []
    for block in text.split("\n\n")[1:]:  # the first block is the header
        if block.startswith("#~"):
            continue
        msgid: list[str] = []
        msgstr: list[str] = []
        current: list[str] | None = None
        for line in block.splitlines():
            if line.startswith("msgid "):
                current = msgid
            elif line.startswith("msgstr"):
                current = msgstr
            elif line.startswith("msgid_plural") or line.startswith("#"):
                current = None if line.startswith("#") else msgid
                continue
            if current is not None and '"' in line:
                current.append(line[line.index('"') + 1 : line.rindex('"')])
        entries.append(("".join(msgid), "".join(msgstr)))
    return entries


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_is_translated_and_not_fuzzy(locale):
    entries = catalogue_entries(locale)
    assert len(entries) > 300
    assert [msgid for msgid, msgstr in entries if not msgstr] == []
    po = (Path(settings.BASE_DIR) / "locale" / locale / "LC_MESSAGES" / "django.po").read_text(
        "utf-8"
    )
    assert "#, fuzzy" not in po


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, expected",
    [("zh-hans", ["客户", "我的任务", "筛选"]), ("zh-hant", ["客戶", "我的任務", "篩選"])],
)
def test_pages_speak_the_chosen_language(manager_client, language, expected):
    CustomerFactory()
    manager_client.post(reverse("set_language"), {"language": language, "next": "/"})
    page = manager_client.get(reverse("customers:customer-list")).content.decode()
    assert f'lang="{language}"' in page
    for text in expected:
        assert text in page


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_amounts_are_grouped_by_thousands_in_every_language(language):
    """Django's Chinese formats group nothing: "97815" stood beside "33,549" (issue 16)."""
    with translation.override(language):
        assert floatformat(Decimal("1234567.891"), "2g") == "1,234,567.89"
