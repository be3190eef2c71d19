"""Packages that mirror the pipeline (issue 24 item 2): each offers its public names in
``__all__``, no module of a package imports the package itself, and no module of geo/
imports a module that imports it (function-level imports counted)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo.inputs", "geo.osm", "geo.households", "geo.walls", "analysis.reach",
            "analysis.project", "analysis.capacity", "analysis.siting")
#: Module paths that moved into the packages; none of them may come back.
GONE = ("geo.household_reader", "geo.facility_reader", "geo.community_reader",
        "geo.upload_reader", "geo.layer_parts", "geo.register_names", "geo.facility_types",
        "geo.layers", "geo.osm_area", "geo.osm_checks", "geo.roads", "geo.population",
        "geo.building_use", "geo.wall_graph", "geo.wall_gates", "analysis.reach_index",
        "analysis.reach_query", "analysis.reach_areas", "analysis.reach_report",
        "analysis.reach_walls", "analysis.projectstate", "analysis.project_checks",
        "analysis.project_upload", "analysis.project_values", "analysis.capacity_reach",
        "analysis.capacity_stage", "analysis.capacity_text", "analysis.siting_solvers",
        "analysis.siting_walls", "analysis.siting_capacity", "analysis.fast_search")


def _modules(folder: str) -> dict[str, Path]:
    found = {}
    for path in (ROOT / folder).rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Project modules ``name`` names in any import statement, at any depth: ``from p
    import x`` names ``p`` (and ``p.x`` when that is a module); importing ``p.q`` from
    outside ``p`` also runs ``p``'s ``__init__``."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    for target in list(out):
        parts = target.split(".")
        out |= {".".join(parts[:k]) for k in range(1, len(parts))
                if ".".join(parts[:k]) in known and not name.startswith(".".join(parts[:k]) + ".")}
    out.discard(name)
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_offers_its_public_names(package):
    module = importlib.import_module(package)
    assert module.__all__ and all(not n.startswith("_") for n in module.__all__)
    assert all(hasattr(module, n) for n in module.__all__)
    assert module.__doc__ and len(module.__doc__) > 200  # says what each module holds


def test_no_module_of_a_package_imports_its_own_package():
    known = _modules("geo") | _modules("analysis")
    bad = []
    for package in PACKAGES + ("geo.grids",):
        inside = {n: p for n, p in known.items() if n.startswith(package + ".")}
        assert inside, package
        bad += [f"{n} imports {package}" for n, p in inside.items()
                if package in _imported(n, p, known)]
    assert bad == []


def test_no_import_loop_in_geo():
    known = _modules("geo")
    edges = {n: _imported(n, p, known) for n, p in known.items()}
    loops = []
    for start in edges:  # depth-first search for a path back to ``start``
        seen, stack = set(), [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for nxt in edges[node]:
                if nxt == start:
                    loops.append(" → ".join(path + (start,)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + (nxt,)))
    assert loops == []


def test_moved_module_paths_are_gone_everywhere():
    files = [p for d in ("geo", "analysis", "ui", "tests", "benchmarks")
             for p in (ROOT / d).rglob("*.py")]
    files += [ROOT / "app.py", *(ROOT / "notebooks").glob("*.ipynb")]
    assert len(files) > 100
    found = []
    for path in files:
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        for old in GONE:
            for pattern in (f"import {old}\n", f"from {old} import", f'"{old}.', f"'{old}."):
                if pattern in text:
                    found.append(f"{path.relative_to(ROOT)}: {old}")
    assert found == []
    for old in GONE:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(old)
