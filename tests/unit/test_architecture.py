"""The domain core imports nothing but the standard library, pydantic and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "crossborder" / "domain"
ALLOWED = {"pydantic", "pydantic_core", "crossborder"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_no_io() -> None:
    offenders = {}
    for path in DOMAIN.glob("*.py"):
        foreign = {
            root
            for root in imported_roots(path)
            if root not in ALLOWED and root not in sys.stdlib_module_names and root != "__future__"
        }
        if foreign:
            offenders[path.name] = foreign
    assert offenders == {}


def test_domain_imports_only_the_domain_of_crossborder() -> None:
    for path in DOMAIN.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("crossborder")
            ):
                assert node.module.startswith("crossborder.domain"), (path.name, node.module)


def test_nothing_below_the_composition_root_imports_it() -> None:
    """Services, adapters, the audit trail and the domain use the Node type, never bootstrap."""
    root = DOMAIN.parent
    below = [root / "services", root / "adapters", root / "audit", root / "domain"]
    offenders = []
    for folder in below:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "crossborder.bootstrap":
                    offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_the_command_line_reads_through_the_services() -> None:
    """No query is written in a command: the services own the tables."""
    cli = DOMAIN.parent / "cli"
    offenders = {
        path.name: roots
        for path in cli.glob("*.py")
        if (
            roots := {
                r for r in _modules(path) if r.startswith(("sqlalchemy", "crossborder.adapters.db"))
            }
        )
    }
    assert offenders == {}


def _modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules
