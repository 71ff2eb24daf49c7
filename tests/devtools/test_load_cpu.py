"""The load test's CPU figures (devtools.load.cpu): the time of a process tree read from
/proc, children that ended included, and the table per request."""

import os
import subprocess
import sys

from devtools.load import cpu

BURN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\n"


def own_tree() -> float:
    return cpu.tree_seconds(os.getpid(), cpu.process_table())


def test_a_live_child_and_an_ended_child_both_count():
    before = own_tree()
    with subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", BURN + "print('burnt', flush=True)\ntime.sleep(30)"],
        stdout=subprocess.PIPE,
        text=True,
    ) as live:
        try:
            assert live.stdout is not None and live.stdout.readline() == "burnt\n"
            assert own_tree() - before >= 0.35  # the live child's time
        finally:
            live.kill()
    subprocess.run([sys.executable, "-c", BURN], check=True)  # noqa: S603 - as above
    assert own_tree() - before >= 0.75  # both, the ended ones in our cutime


def test_the_sampler_widens_the_window_to_the_samples_around_it():
    sampler = cpu.Sampler(dict)
    sampler.samples = [(10.0, {"web": 1.0}), (11.0, {"web": 2.0}), (12.0, {"web": 4.0})]
    assert sampler.between(10.5, 11.5) == {"web": 3.0}  # from 10.0 to 12.0
    assert sampler.between(0, 99) == {"web": 3.0}  # beyond the samples: the first and last


def test_the_table_gives_milliseconds_per_request_and_what_the_cores_could_answer():
    spent = {"web": 4.0, "database": 1.0, "jobs": 0.0, "redis": 0.0}
    [header, rule, row] = cpu.cpu_lines([("all pages", spent, 100), ("nothing", spent, 0)])
    assert header.split()[:5] == ["CPU", "ms", "per", "request", "web"]
    assert row.split()[:7] == ["all", "pages", "40.0", "10.0", "0.0", "0.0", "50.0"]
    cores = os.cpu_count() or 1
    assert row.endswith(f"{1000 * cores / 50:.1f} req/s")


def test_a_part_not_read_is_shown_as_not_available():
    spent = {"web": 4.0, "jobs": 0.0, "redis": 0.0}  # no database: not on this machine
    [_header, _rule, row] = cpu.cpu_lines([("all pages", spent, 100)])
    assert row.split() == ["all", "pages", "40.0", "n/a", "0.0", "0.0"]


def test_the_database_server_is_found_only_through_a_postgres_process(postgres):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server = cpu.postmaster_of(backend)
    assert server is not None and server != 1
    assert cpu.postmaster_of(os.getpid()) is None  # pytest's parent is no postmaster


def test_a_run_whose_every_sample_failed_reports_not_available():
    from devtools.management.commands.bench_load import _cpu_lines

    def unreadable() -> dict[str, float]:
        raise ConnectionError("Redis is down")

    with cpu.Sampler(unreadable, interval=0.01) as floor, cpu.Sampler(unreadable) as load:
        pass
    assert load.samples == []

    class Totals:  # a locust stats row: the one without a method is the total
        method, requests = "", 10

    lines = _cpu_lines((floor, load, 60), None, [Totals()], [Totals()])
    assert lines[2].split() == ["all", "pages", "n/a", "n/a", "n/a", "n/a"]
