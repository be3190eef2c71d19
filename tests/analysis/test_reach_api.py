"""The reach facade (:mod:`analysis.reach`) offers public names only, and nobody reaches
through it for private ones."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from analysis import reach as R

ROOT = Path(__file__).resolve().parents[2]


def test_facade_exports_only_public_names_each_from_its_own_module():
    assert R.__all__ and all(not name.startswith("_") for name in R.__all__)
    assert sorted(R.__all__) == sorted(set(R.__all__))
    private = [n for n in vars(R) if n.startswith("_") and not n.startswith("__")]
    assert private == []
    public = {n for n, v in vars(R).items()
              if not n.startswith("_") and getattr(v, "__module__", "").startswith("analysis.")}
    assert public <= set(R.__all__)
    for name in R.__all__:
        value = getattr(R, name)
        home = getattr(value, "__module__", None)
        if home is not None and home != R.__name__:
            assert getattr(importlib.import_module(home), name) is value


def _private_uses_of_reach(tree: ast.AST) -> list[str]:
    aliases = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.module == "analysis.reach":
                found += [a.name for a in node.names if a.name.startswith("_")]
            if node.module == "analysis":
                aliases |= {a.asname or a.name for a in node.names if a.name == "reach"}
        elif isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name == "analysis.reach" and a.asname}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            found.append(node.attr)
    return found


def test_no_module_takes_private_names_through_the_facade():
    files = [p for folder in ("analysis", "geo", "ui", "tests", "benchmarks")
             for p in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py"]
    assert len(files) > 50
    bad = {str(p.relative_to(ROOT)): names for p in files
           if (names := _private_uses_of_reach(ast.parse(p.read_text(encoding="utf-8"))))}
    assert bad == {}
