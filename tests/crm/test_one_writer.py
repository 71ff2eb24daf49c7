"""One writer per model: only the app that owns a model writes it (through its services), and
views and forms never write. Read from the source, so a new shortcut fails here."""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["customers", "sales", "service", "analytics", "marketing"]
WRITES = {"create", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "update",
          "delete", "save"}  # fmt: skip
# Seeders and benchmarks load fixtures in bulk; they are development tools, not product code.
NOT_PRODUCT = {"demo.py", "knowledge_demo.py"}


def _product_modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "migrations" in parts or "management" in parts or path.name in NOT_PRODUCT:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _root_name(node: ast.expr) -> tuple[str | None, list[str]]:
    """The name a chain such as Consent.objects.filter(...).update starts from."""
    chain = []
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        else:
            node = node.func
    return (node.id if isinstance(node, ast.Name) else None), chain


def test_no_app_writes_another_apps_models():
    owner = {model.__name__: model._meta.app_label for model in apps.get_models()}
    found = []
    for app in APPS:
        for path, tree in _product_modules(app):
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name, chain = None, []
                if isinstance(func, ast.Name):
                    name = func.id  # Model(...): an instance about to be saved
                elif isinstance(func, ast.Attribute) and func.attr in WRITES:
                    name, chain = _root_name(func.value)
                    if "objects" not in chain:
                        continue
                if name in owner and owner[name] in APPS and owner[name] != app:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} writes {name}")
    assert found == []


def test_views_and_forms_never_write():
    found = []
    for app in APPS:
        for path, tree in _product_modules(app):
            relative = path.relative_to(ROOT)
            is_view = "views" in relative.parts or path.stem == "views"
            if not (is_view or path.stem.endswith("forms")):
                continue
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITES
                ):
                    receiver, chain = _root_name(node.func.value)
                    if receiver == "cache":
                        continue
                    if node.func.attr == "update" and not {"objects", "filter"} & set(chain):
                        continue  # a dict's or a widget's attrs' update
                    found.append(f"{relative}:{node.lineno} .{node.func.attr}()")
    assert found == []
