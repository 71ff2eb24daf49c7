"""Our modules never import each other in a circle.

Read from the source (no import runs): an edge M -> X for every `import X` / `from X import`
of one of our modules. Module-level imports must form no cycle. An import inside a
function that closes a cycle (X imports M at its top, directly or through others) hides a
cycle rather than removing it; the one such import allowed is the Celery pattern: services
queue tasks (importing `<app>.tasks` at the top) and a task imports the services it calls
inside its body.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def our_packages() -> list[str]:
    local = {
        config.name.split(".")[0]
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(BASE_DIR.resolve())
    }
    return sorted(local | {"crm"})


def module_files() -> dict[str, Path]:
    modules = {}
    for package in our_packages():
        for path in (BASE_DIR / package).rglob("*.py"):
            relative = path.relative_to(BASE_DIR).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules[".".join(parts)] = path
    return modules


def imported_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        # `from a.b import c` imports a.b, and a.b.c when c is a module.
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module-level imports, imports inside functions) of each of our modules."""
    modules = module_files()
    at_top: dict[str, set[str]] = {}
    in_functions: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        at_top[name] = {
            target
            for node in tree.body
            for target in imported_names(node)
            if target in modules and target != name
        }
        in_functions[name] = {
            target
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function)
            for target in imported_names(node)
            if target in modules and target != name
        }
    return at_top, in_functions


def path_between(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """The module-level import chain start -> ... -> goal, if there is one."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        if current == goal:
            chain = [current]
            while (before := previous[chain[-1]]) is not None:
                chain.append(before)
            return chain[::-1]
        for following in sorted(graph.get(current, ())):
            if following not in previous:
                previous[following] = current
                queue.append(following)
    return None


def is_task_calling_a_service(module: str, target: str) -> bool:
    return module.rsplit(".", 1)[-1] == "tasks" and "services" in target


def test_module_level_imports_form_no_cycle():
    at_top, _in_functions = import_graph()
    cycles = [
        " -> ".join([module, *chain])
        for module, targets in sorted(at_top.items())
        for target in sorted(targets)
        if (chain := path_between(at_top, target, module))
    ]
    assert cycles == []


def test_no_import_inside_a_function_hides_a_cycle():
    at_top, in_functions = import_graph()
    hidden = [
        f"{module} (in a function) -> " + " -> ".join(chain)
        for module, targets in sorted(in_functions.items())
        for target in sorted(targets)
        if not is_task_calling_a_service(module, target)
        and (chain := path_between(at_top, target, module))
    ]
    assert hidden == []


def test_tasks_import_services_inside_their_bodies_only():
    at_top, _in_functions = import_graph()
    at_top_of_tasks = {
        module: sorted(target for target in targets if "services" in target)
        for module, targets in at_top.items()
        if module.rsplit(".", 1)[-1] == "tasks"
    }
    assert {module: targets for module, targets in at_top_of_tasks.items() if targets} == {}
