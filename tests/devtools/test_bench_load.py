"""`make bench-load`: the exactly-once count on real rows, and a short run of the whole
machinery (gunicorn, a Celery worker and beat, locust) so that it cannot rot."""

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.utils import timezone

from devtools.demo import seed_demo
from devtools.load import tally
from devtools.load.pages import board, form_posting_to
from sales.models import Deal, DealStageChange
from tests.factories import CustomerFactory

RUN = "LOAD-0123abcd"


def _marker(n: int) -> str:
    return f"{RUN}-{n:012x}"


def _write(kind: str, n: int, outcome: str = tally.OK) -> dict:
    return {"kind": kind, "outcome": outcome, "marker": _marker(n)}


@pytest.mark.django_db
def test_the_tally_finds_doubled_lost_and_unconfirmed_writes_in_the_rows(rep):
    customer = CustomerFactory(owner=rep)
    for n in (1, 2, 2, 4):  # 2 landed twice, 3 never, 4 answered an error but landed
        customer.interactions.create(channel="phone", summary=f"Call {_marker(n)}", logged_by=rep)
    writes = [_write("interaction", n) for n in (1, 2, 3)] + [_write("interaction", 4, "error")]
    (result,) = tally.tally_writes(writes, RUN, timezone.now())
    assert (result.sent, result.landed, result.doubled, result.lost) == (3, 2, 1, 1)
    assert (result.errors, result.ghosts, result.exact) == (1, 1, False)
    assert tally.write_lines([result])[-1] == "writes: 3 sent, 2 landed, 2 doubled, 1 lost"


@pytest.mark.django_db
def test_the_tally_counts_a_deal_move_by_its_deal_and_stage(rep):
    since = timezone.now() - timedelta(seconds=1)
    seed_demo(count=20, interactions_per_customer=0)
    deal = Deal.objects.filter(status=Deal.Status.OPEN).select_related("stage").first()
    assert deal is not None
    stage = deal.pipeline.stages.exclude(pk=deal.stage_id).filter(is_won=False, is_lost=False)[0]
    DealStageChange.objects.create(deal=deal, from_stage=deal.stage, to_stage=stage, changed_by=rep)
    moves = [
        {"kind": "deal move", "outcome": outcome, "deal": deal.pk, "stage": stage.pk}
        for outcome in (tally.OK, tally.CONFLICT)
    ]
    (result,) = tally.tally_writes(moves, RUN, since)
    assert (result.sent, result.landed, result.refused, result.exact) == (1, 1, 1, True)


@pytest.mark.django_db
def test_the_users_read_the_forms_and_the_board_as_the_browser_sends_them(rep_client):
    seed_demo(count=20, interactions_per_customer=0)
    html = rep_client.get("/customers/new/").content.decode()
    form = form_posting_to(html, "")
    assert form is not None
    assert {"csrfmiddlewaretoken", "name", "stage", "owner"} <= set(form.fields)
    assert ("name", "Acme") in form.data(name="Acme")
    cards = board(rep_client.get("/sales/board/").content.decode())
    assert len(cards.open_stages) >= 2 and cards.cards
    assert all(card.stage in cards.open_stages for card in cards.cards)


class QuickPBKDF2(PBKDF2PasswordHasher):
    """Hashes the gunicorn processes (production settings, PBKDF2) can check, made quickly."""

    iterations = 1000


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_short_run_serves_every_role_and_counts_every_write_once(
    redis_url, settings, tmp_path, monkeypatch
):
    settings.PASSWORD_HASHERS = ["tests.devtools.test_bench_load.QuickPBKDF2"]
    monkeypatch.setenv("GUNICORN_WORKERS", "2")  # 2 users; fewer processes start sooner
    seed_demo(count=30, interactions_per_customer=1)
    out = io.StringIO()
    call_command(
        "bench_load", users=2, seconds=5, floor_seconds=2, wait="0.1,0.3", logs=str(tmp_path),
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "PASS: no errors; every write landed once" in text, text
    sent = re.search(r"writes: (\d+) sent, (\d+) landed, 0 doubled, 0 lost", text)
    assert sent and int(sent[1]) == int(sent[2]) > 0, text
    assert re.search(r"FLOOR GET /healthz +\d+ +0 ", text), text
    assert "0 failed requests, 0 server errors (5xx)" in text
    # The servers' CPU per request, a capacity figure beside requests/s.
    assert re.search(r"^all pages( +\d+\.\d){5} +\d+\.\d req/s$", text, re.M), text
    assert re.search(r"^FLOOR GET /healthz( +\d+\.\d){5} +\d+\.\d req/s$", text, re.M), text
