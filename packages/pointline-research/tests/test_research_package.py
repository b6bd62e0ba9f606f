"""Package boundaries: core only (never a vendor), the entry point, and the commands it registers."""

from __future__ import annotations

import ast
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from pointline.cli.app import build_app

PACKAGE = Path(__file__).resolve().parents[1]


def test_sources_import_only_pointline_and_declared_libraries() -> None:
    declared = {"pointline", "pointline_research", "polars", "deltalake", "duckdb", "typer", "rich"}
    for path in (PACKAGE / "src" / "pointline_research").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            third_party = {r for r in roots if not _stdlib(r)}
            assert third_party <= declared, f"{path.name} imports {third_party - declared}"
            assert not any(r.startswith("pointline_vendor") for r in roots), f"{path.name} imports a vendor package"


def _stdlib(module: str) -> bool:
    import sys

    return module in sys.stdlib_module_names or module == "__future__"


def test_dependencies_pin_core_and_the_entry_point_is_declared() -> None:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = project["dependencies"]
    assert "pointline-core>=0.1,<0.2" in deps
    assert not any("vendor" in d for d in deps)
    assert project["entry-points"]["pointline"] == {"research": "pointline_research.hooks"}
    installed = {ep.name: ep.value for ep in entry_points(group="pointline")}
    assert installed.get("research") == "pointline_research.hooks"


def test_the_plugin_adds_its_commands_to_the_cli() -> None:
    names = {c.name for c in build_app().registered_commands}
    assert {"query", "sql", "symbols", "coverage"} <= names
