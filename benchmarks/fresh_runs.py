"""One timed run of one side of ``bench_grids.py``'s comparison, in a process of its own.

``bench_grids.py`` times each side (Gridcircle, max-p) in ``--repeat`` fresh processes, the
same number for both and taken in turns (Gridcircle, max-p, Gridcircle, max-p, …), so
that each side's figure is what a user's first call costs and the machine's moods fall on
both alike. Each process does what the comparison's own process did before it timed the
side (the same district and units for Gridcircle; for max-p the same cells, adjacency,
frame and weights, read back from the file the comparison wrote), times exactly the same
call (:func:`benchmarks.bench_grids.run_ours`, :func:`benchmarks.bench_grids.run_maxp`)
and prints one JSON line: wall and CPU seconds, and what shows the run found the same
answer as the others (the grids' digest; max-p's labels go to a file beside its inputs).

    python -m benchmarks.fresh_runs ours --size 1024
    python -m benchmarks.fresh_runs maxp --inputs DIR --iterations 99 --seed 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_grids import (grids_digest, labels_path, read_maxp_inputs,  # noqa: E402
                                    run_maxp, run_ours)
from benchmarks.units import entrance_units  # noqa: E402
from geo.grids import GridSettings  # noqa: E402
from geo.synthetic import synthetic_district  # noqa: E402


def _ours(size: int) -> dict:
    area = synthetic_district(size * 25, seed=0)  # as bench_grids.main builds it
    units = entrance_units(area)
    result, seconds, cpu = run_ours(units, area, GridSettings())
    return {"seconds": seconds, "cpu": cpu, "steps": result.report["timings_s"],
            "digest": grids_digest(result)}


def _maxp(folder: Path, run: int, iterations: int, seed: int) -> dict:
    cells, adj = read_maxp_inputs(folder)
    labels, seconds, cpu = run_maxp(cells, adj, iterations=iterations, seed=seed)
    np.save(labels_path(folder, run), labels)
    return {"seconds": seconds, "cpu": cpu,
            "digest": hashlib.sha256(labels.tobytes()).hexdigest()[:16]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", choices=("ours", "maxp"))
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--inputs", default=None)
    parser.add_argument("--run", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=99)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = _ours(args.size) if args.side == "ours" else \
        _maxp(Path(args.inputs), args.run, args.iterations, args.seed)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
