"""One vocabulary: the households' minutes column and the default band are named in
geo/vocabulary.py only; every other module asks it (issue: one fact, one place)."""

from __future__ import annotations

import ast
from pathlib import Path

from geo.grids import GridSettings
from geo.vocabulary import (DEFAULT_BAND, GAP_MAX_MINUTES, GAP_MEDIAN_MINUTES, minutes_column,
                            service_of_column, services_with_minutes)

ROOT = Path(__file__).resolve().parents[1]
CODE = [p for d in ("geo", "analysis", "ui") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]


def _literals(path: Path) -> list[tuple[int, str]]:
    """String constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_the_minutes_column_is_spelled_only_in_the_vocabulary():
    found = [f"{p.relative_to(ROOT)}:{line}" for p in CODE if p.name != "vocabulary.py"
             for line, text in _literals(p) if "walk_min_" in text]
    assert found == [], found


def test_the_default_band_is_written_once():
    found = [f"{p.relative_to(ROOT)}:{n.lineno}" for p in CODE if p.name != "vocabulary.py"
             for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
             if isinstance(n, ast.Tuple) and [getattr(e, "value", None) for e in n.elts] == [200, 300]]
    assert found == [], found
    assert (GridSettings().min_households, GridSettings().max_households) == DEFAULT_BAND


def test_minutes_columns_and_their_inverse():
    assert minutes_column("health") == "walk_min_health"
    assert service_of_column(minutes_column("primary_school")) == "primary_school"
    assert service_of_column("households") is None
    assert service_of_column(GAP_MEDIAN_MINUTES) is None and service_of_column(GAP_MAX_MINUTES) is None
    cols = ["unit_id", minutes_column("park"), GAP_MAX_MINUTES, minutes_column("health")]
    assert services_with_minutes(cols) == ["park", "health"]


def test_no_module_is_over_500_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in CODE
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500]
    assert long == [], long


def test_polsby_popper_is_computed_only_in_the_rule_book():
    """4πA/P² (and the band's classes) live in geo/grids/rules.py; others call it."""
    found = []
    for p in CODE:
        if p.name == "rules.py" and p.parent.name == "grids":
            continue
        text = p.read_text(encoding="utf-8")
        if "4 * np.pi" in text or "4 * math.pi" in text or "4*np.pi" in text:
            found.append(str(p.relative_to(ROOT)))
    assert found == [], found


def test_the_band_classes_and_the_flagged_rule_live_only_in_the_rule_book():
    """No module outside geo/grids/rules.py compares a grid's households with the band
    to class it, or writes the flagged-grid rule (in band, in one piece, no arterial)."""
    found = []
    for p in CODE:
        if p.name == "rules.py" and p.parent.name == "grids":
            continue
        src = p.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef) and node.name in ("band_class", "flagged"):
                found.append(f"{p.relative_to(ROOT)}:{node.lineno} defines {node.name}")
            if isinstance(node, ast.Compare):
                text = ast.get_source_segment(src, node) or ""
                if "in_band" in text and "contiguous" not in text and "==" in text \
                        and "arterial" not in text and "grids_in_band" not in text:
                    continue
                if ("in_band" in text and "contiguous" in text) or (
                        "households" in text and any(f"{b}" in text for b in (
                            "band[0]", "band[1]", "< low", "> high", "<= high", ">= low"))):
                    found.append(f"{p.relative_to(ROOT)}:{node.lineno} {text[:60]}")
    assert found == [], found
