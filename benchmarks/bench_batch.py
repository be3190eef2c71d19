"""A city's districts as one batch: a local Dask cluster against one process, memory per
worker, and the time to resume after the batch was killed half way.

Prints, for a synthetic city of ``--districts`` districts of about ``--households``
households each (each a ``synthetic:N`` demo with its own N, so no two are alike):

* the batch on a ``LocalCluster`` (``--workers``, default one per core) against the named
  alternative, the same districts run one after another in one process
  (:func:`analysis.batch.task.run_district` in a loop), and the speed-up;
* the peak resident memory of each worker (and of the serial process);
* the batch killed (SIGKILL to its process group) once half the districts finished, then
  the time of the run that resumes it, and of a run with every district already done;
* the time to write the comparison (XLSX and PDF).

Run: ``python benchmarks/bench_batch.py [--districts 20] [--households 50000] [--workers N]``
(the issue's figure is 20 × 50,000; ``--districts 4 --households 5000`` is a quick check).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.batch import read_batch, run_batch  # noqa: E402
from analysis.batch.compare import write_comparison  # noqa: E402
from analysis.batch.table import inputs_hash, parse_district  # noqa: E402
from analysis.batch.task import MARKER, run_district  # noqa: E402


def city_csv(folder: Path, districts: int, households: int) -> Path:
    rows = ["name,demo"] + [f"D{k + 1:02d},synthetic:{households + 7 * k}" for k in range(districts)]
    path = folder / "batch.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def on_cluster(batch: Path, out: Path, workers: int | None) -> tuple[float, dict, list]:
    start = time.perf_counter()
    result = run_batch(batch, out, workers=workers, stream=io.StringIO(), compare=False)
    seconds = time.perf_counter() - start
    peaks = defaultdict(float)
    for outcome in result.outcomes:
        assert outcome["status"] == "done", outcome
        peaks[outcome.get("worker") or "?"] = max(peaks[outcome.get("worker") or "?"],
                                                  outcome["peak_mb"])
    return seconds, dict(peaks), result.outcomes


def serial(batch: Path, out: Path) -> tuple[float, float]:
    start = time.perf_counter()
    for district in read_batch(batch):
        folder = out / district.name
        digest = inputs_hash(parse_district(district, folder))
        outcome = run_district(district.name, district.argv, str(folder), digest)
        assert outcome["status"] == "done", outcome
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return time.perf_counter() - start, peak


def killed_and_resumed(batch: Path, out: Path, workers: int | None, districts: int) -> dict:
    flags = ["--workers", str(workers)] if workers else []
    command = [sys.executable, "-m", "analysis", "batch", str(batch), "--out", str(out), *flags]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    half = max(1, districts // 2)
    start = time.perf_counter()
    while sum((out / f"D{k + 1:02d}" / MARKER).exists() for k in range(districts)) < half:
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    killed_after = time.perf_counter() - start
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sum((out / f"D{k + 1:02d}" / MARKER).exists() for k in range(districts))
    start = time.perf_counter()
    resumed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    resume_s = time.perf_counter() - start
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    all_done_s = time.perf_counter() - start
    return {"killed_after_s": killed_after, "finished_before_kill": finished,
            "resume_s": resume_s, "all_done_rerun_s": all_done_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=20)
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    workers = args.workers or os.cpu_count()
    print(f"city: {args.districts} districts x ~{args.households:,} households; "
          f"{os.cpu_count()} cores; {workers} workers")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        batch = city_csv(tmp, args.districts, args.households)
        cluster_s, peaks, outcomes = on_cluster(batch, tmp / "cluster", workers)
        print(f"local cluster: {cluster_s:8.1f} s total (district tasks "
              f"{sum(o['seconds'] for o in outcomes):.1f} s summed)")
        for worker, peak in sorted(peaks.items()):
            print(f"  peak memory {worker}: {peak:,.0f} MB")
        serial_s, serial_peak = serial(batch, tmp / "serial")
        print(f"one process, one after another: {serial_s:8.1f} s; peak memory {serial_peak:,.0f} MB")
        print(f"speed-up on the cluster: {serial_s / cluster_s:.2f}x on {workers} workers")
        start = time.perf_counter()
        frame = [{"name": o["name"], "status": "done"} for o in outcomes]
        write_comparison(frame, tmp / "cluster")
        print(f"comparison (xlsx + pdf): {time.perf_counter() - start:.1f} s")
        figures = killed_and_resumed(batch, tmp / "resume", args.workers, args.districts)
        print(f"killed after {figures['killed_after_s']:.1f} s with "
              f"{figures['finished_before_kill']}/{args.districts} districts finished; "
              f"resume (rest + comparison): {figures['resume_s']:.1f} s; "
              f"run again with all done: {figures['all_done_rerun_s']:.1f} s")


if __name__ == "__main__":
    main()
