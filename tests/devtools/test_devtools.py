"""devtools/ (demo data and benchmarks) is development-only: off in production, and no
product module depends on it."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands, load_command_class

ROOT = Path(settings.BASE_DIR)
BENCH_COMMANDS = [
    "bench_analytics",
    "bench_api",
    "bench_audience",
    "bench_campaign_send",
    "bench_duplicates",
    "bench_import_orders",
    "bench_load",
    "bench_mail",
    "bench_pages",
    "bench_sales",
    "bench_service",
    "bench_webhooks",
]
SHOW_DEVTOOLS = (
    "import json, django; django.setup(); from django.apps import apps; "
    "from django.core.management import get_commands; "
    "print(json.dumps([apps.is_installed('devtools'), "
    "sorted(c for c in get_commands() if c == 'seed_demo' or c.startswith('bench_'))]))"
)


def _installed_devtools(**env: str) -> list:
    result = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", SHOW_DEVTOOLS],
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "crm.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_install_no_devtools_and_no_demo_or_bench_commands():
    assert _installed_devtools() == [False, []]
    assert _installed_devtools(CRM_DEVTOOLS="0") == [False, []]
    assert _installed_devtools(CRM_DEVTOOLS="1") == [True, [*BENCH_COMMANDS, "seed_demo"]]


def test_the_test_suite_always_has_devtools():
    assert apps.is_installed("devtools")


def _product_modules() -> list[Path]:
    """Every Python file of every top-level package except devtools/ and tests/."""
    packages = [
        path.parent
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"devtools", "tests"}
    ]
    assert {"crm", "customers", "sales", "service", "analytics", "marketing"} <= {
        package.name for package in packages
    }
    return [path for package in packages for path in package.rglob("*.py")]


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_product_module_imports_devtools():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _product_modules()
        for name in _imported_modules(path)
        if name == "devtools" or name.startswith("devtools.")
    ]
    assert offenders == []


@pytest.mark.parametrize("name", BENCH_COMMANDS)
def test_each_bench_command_is_a_devtools_command_with_help(name):
    assert get_commands()[name] == "devtools"
    command = load_command_class("devtools", name)
    assert "usage: manage.py " + name in command.create_parser("manage.py", name).format_help()
