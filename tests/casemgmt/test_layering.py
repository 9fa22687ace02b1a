"""The code's layout holds (docs/architecture.md): views read through selectors and access functions, never a
model manager; dependencies point one way (casemgmt uses no feature app; clients uses none of the apps built
on it)."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

BASE = Path(settings.BASE_DIR)
MANAGER_ATTRIBUTES = {"objects", "_default_manager", "_base_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}


def project_apps() -> list:
    """The project's own apps: under the checkout, outside the virtualenv and the test-only apps."""
    return [config for config in apps.get_app_configs() if Path(config.path).is_relative_to(BASE)
            and Path(config.path).relative_to(BASE).parts[0] not in {".venv", "tests"}]


def view_modules(config) -> list[Path]:
    root = Path(config.path)
    return [path for path in [root / "views.py", *sorted((root / "views").glob("*.py"))] if path.exists()]


def manager_uses(path: Path) -> list[str]:
    shown = path.relative_to(BASE) if path.is_relative_to(BASE) else path.name
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in MANAGER_ATTRIBUTES:
            found.append(f"{shown}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in SHORTCUTS:
            found.append(f"{shown}:{node.lineno} {node.id}")
    return found


def imported_modules(config) -> set[str]:
    names = set()
    for path in Path(config.path).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_views_never_query_a_model_manager():
    found = [use for config in project_apps() for path in view_modules(config) for use in manager_uses(path)]
    assert found == [], "views read through selectors and access_* functions (docs/adding-a-feature.md)"


def test_the_check_finds_a_manager_in_a_view(tmp_path):
    view = tmp_path / "views.py"
    view.write_text("def page(request):\n    return Client.objects.get(pk=1)\n", encoding="utf-8")
    assert manager_uses(view) == ["views.py:2 .objects"]


def test_dependencies_point_one_way():
    labels = {config.label for config in project_apps()}
    feature_apps = labels - {"casemgmt"}
    assert imported_modules(apps.get_app_config("casemgmt")) & feature_apps == set()
    assert imported_modules(apps.get_app_config("clients")) & (feature_apps - {"clients"}) == set()


def test_no_app_imports_the_reports():
    """The reports read every feature app (plain ORM aggregates on their models); none of them, and not the
    platform, reads the reports."""
    labels = {config.label for config in project_apps()}
    assert "reports" in labels
    importers = sorted(label for label in labels - {"reports"}
                       if "reports" in imported_modules(apps.get_app_config(label)))
    assert importers == []


def test_the_check_finds_an_import_of_the_reports(tmp_path, monkeypatch):
    class Config:
        path = str(tmp_path)

    (tmp_path / "selectors.py").write_text("from reports.suppression import publish\n", encoding="utf-8")
    assert "reports" in imported_modules(Config())
