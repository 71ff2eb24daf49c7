""" "Pipeline" and "board" named one page twice (issue 16): every link to it says Pipeline."""

import re

from django.urls import reverse


def test_every_link_to_the_board_page_is_called_pipeline(rep_client):
    board = reverse("sales:board")
    pages = [reverse("home"), reverse("sales:deal-list"), reverse("sales:home-pipeline-panel")]
    for url in pages:
        page = rep_client.get(url).content.decode()
        for label in re.findall(rf'href="{re.escape(board)}"[^>]*>([^<]*)<', page):
            assert "board" not in label.lower(), (url, label)
