"""Figures for the compounds rule (issue 22): the detour inside compounds measured where
inner paths are mapped, and what assumed gates change.

Run from the repository root::

    python benchmarks/calibrate_walls.py            # Beijing sample and generated districts
    python benchmarks/calibrate_walls.py --skip-beijing

1. ``detour``: on compounds whose inner paths are mapped, the median ratio of the walk
   along the inner paths (home → nearest crossing) to the straight line to the same
   crossings (:func:`analysis.walls_calibration.detour_summary`), on the Beijing sample
   ``../shared/data/beijing_xueqing.osm`` and on generated districts.
2. ``assumed``: on the Beijing sample, compounds walled, gates assumed, and households whose
   walking minutes change, without and with assumed gates (``WallSettings.assume_gates``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import pipeline as P  # noqa: E402
from analysis.reach.walls import CHANGE_MIN  # noqa: E402
from analysis.stages import Inputs, Runner, StageCache  # noqa: E402
from analysis.walls_calibration import detour_summary  # noqa: E402
from geo.synthetic import synthetic_district  # noqa: E402
from geo.walls import WallSettings  # noqa: E402

BEIJING = Path(__file__).resolve().parents[2] / "shared" / "data" / "beijing_xueqing.osm"


def _run(area, walls: WallSettings, cache: StageCache):
    runner = Runner(inputs=Inputs(area=area), settings=replace(P.RunSettings(), walls=walls),
                    cache=cache, progress=None)
    return runner.get("index"), runner.get("reach").reach


def _changed(a, b, weight) -> int:
    """Households whose minutes differ for some service."""
    x, y = a.minutes.to_numpy(), b.minutes.to_numpy()
    both = np.isfinite(x) & np.isfinite(y)
    diff = (both & (np.abs(np.where(both, x - y, 0)) >= CHANGE_MIN)) | (np.isfinite(x) != np.isfinite(y))
    return int(weight[diff.any(axis=1)].sum())


def beijing() -> dict:
    area = P.load_area(osm=str(BEIJING))
    cache = StageCache()
    before_i, before = _run(area, WallSettings(assume_gates=False), cache)
    after_i, after = _run(area, WallSettings(), cache)
    off_i, off = _run(area, WallSettings(gated=False), cache)
    w = after_i.household_weight

    def walled(index):
        return (int(index.walled is not None and index.walls.walled(index.walled.compound).sum())
                and int(w[index.walls.walled(index.walled.compound)].sum()))

    rep = after_i.walls.report
    return {
        "detour": detour_summary(after_i),
        "compounds": rep["compounds"],
        "compounds_by_status_before": before_i.walls.report["compounds_by_status"],
        "compounds_by_status_after": rep["compounds_by_status"],
        "compounds_walled_before": before_i.walls.n_gated,
        "compounds_walled_after": after_i.walls.n_gated,
        "gates_assumed": int((after_i.walls.access["origin"] == "assumed").sum()),
        "compounds_with_assumed_gates": len(rep["compounds_assumed"]),
        "households": int(w.sum()),
        "households_walled_before": walled(before_i),
        "households_walled_after": walled(after_i),
        "households_minutes_changed_by_assumed_gates": _changed(after, before, w),
        "households_minutes_changed_walls_on_vs_off": _changed(after, off, w),
        "mapped_gates_ignored": rep["gates_mapped_ignored"],
        "ignored_why": {r: sum(1 for g in rep["gates_ignored_why"] if g["reason"] == r)
                        for r in sorted({g["reason"] for g in rep["gates_ignored_why"]})},
    }


def generated(households: int, seed: int) -> dict:
    area = synthetic_district(households, seed=seed)
    index, _ = _run(area, WallSettings(), StageCache())
    return detour_summary(index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-beijing", action="store_true")
    args = parser.parse_args()
    out = {"generated": {f"{n}/{s}": generated(n, s) for n, s in ((3000, 0), (12000, 9))}}
    if not args.skip_beijing and BEIJING.exists():
        out["beijing"] = beijing()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
