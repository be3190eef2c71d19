"""A single command-line run makes its grids on every core it may use, and they are the
grids of one core (the batch's districts and the page keep one)."""

from __future__ import annotations

import json

import pyogrio
import pytest

import analysis.base_stage as base_stage
import analysis.cli as cli
from geo.grids import parallel


_MAKE_GRIDS = base_stage.make_grids


def _run(tmp_path, monkeypatch, cores: int, seen: list[int]):
    real = _MAKE_GRIDS

    def spy(*args, workers=1, **kwargs):
        seen.append(workers)
        return real(*args, workers=workers, **kwargs)

    monkeypatch.setattr(base_stage, "make_grids", spy)
    monkeypatch.setattr(cli, "available_workers", lambda: cores)
    out, summary = tmp_path / f"c{cores}.gpkg", tmp_path / f"c{cores}.json"
    assert cli.main(["run", "--demo", "synthetic:6000", "--out", str(out),
                     "--summary", str(summary)]) == 0
    grids = pyogrio.read_dataframe(out, layer="grids")
    homes = pyogrio.read_dataframe(out, layer="households")
    data = json.loads(summary.read_text(encoding="utf-8"))
    data.pop("timings_s", None)
    return grids, homes, data


def test_cli_grids_on_two_cores_are_the_grids_of_one(tmp_path, monkeypatch):
    if not parallel.can_fork():
        pytest.skip("no fork here")
    # small thresholds, so that this small district takes every parallel path
    monkeypatch.setattr(parallel, "MIN_CHUNKED", 10)
    monkeypatch.setattr(parallel, "MIN_JOBS", 2)
    seen: list[int] = []
    g1, h1, s1 = _run(tmp_path, monkeypatch, 1, seen)
    g2, h2, s2 = _run(tmp_path, monkeypatch, 2, seen)
    assert seen == [1, 2]
    assert len(g1) > 10
    assert g1.drop(columns="geometry").equals(g2.drop(columns="geometry"))
    assert g1.geometry.to_wkb().equals(g2.geometry.to_wkb())
    assert h1["grid_id"].equals(h2["grid_id"])
    assert s1 == s2
