"""Benchmark: reading planners' uploads and placing households.

Run from the repository root::

    python benchmarks/bench_uploads.py              # 100,000 buildings, 1,000 × 1,000 raster
    python benchmarks/bench_uploads.py --quick      # 10,000 buildings, 300 × 300 raster

1. 100,000 building footprints in GCJ-02 (a GeoPackage with 层数/用途/户数/联系电话 columns)
   read through :func:`geo.inputs.footprints.read_buildings` (column matching, privacy,
   repair, GCJ-02 → WGS84 → metres) and put into the synthetic district's study area, then
   households placed by the household model; against a bare ``pyogrio.read_dataframe`` +
   ``to_crs`` of the same file (what a script without any checks would do).
2. A 1,000 × 1,000-cell population GeoTIFF (EPSG:3857, 20 m cells) read with
   :func:`geo.inputs.population.read_population` and spread onto the homes
   (:func:`geo.households.population.households_from_population`); against the same spread done with
   a ``geopandas.sjoin`` of homes in cell polygons and a pandas groupby.

Timings are wall clock and CPU of one run each (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.chinacrs import wgs84_to_gcj02  # noqa: E402
from geo.households import estimate_households  # noqa: E402
from geo.inputs.footprints import read_buildings, with_buildings  # noqa: E402
from geo.inputs import read_population  # noqa: E402
from geo.households import households_from_population  # noqa: E402
from geo.settings import HouseholdSettings, InputLimits  # noqa: E402
from geo.synthetic import synthetic_district  # noqa: E402


def timed(label: str, fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"   {label:58s} {wall:7.2f} s wall {cpu:7.2f} s cpu")
    return out, wall, cpu


def footprints_file(area, n: int, folder: Path) -> Path:
    """``n`` footprints on a jittered lattice over the area, in GCJ-02, as a GeoPackage."""
    rng = np.random.default_rng(0)
    west, south, east, north = area.boundary.bounds
    side = int(np.ceil(np.sqrt(n)))
    xs = np.linspace(west + 20, east - 20, side)
    ys = np.linspace(south + 20, north - 20, side)
    gx, gy = np.meshgrid(xs, ys)
    x, y = gx.ravel()[:n], gy.ravel()[:n]
    step = min(xs[1] - xs[0], ys[1] - ys[0]) if side > 1 else 40.0
    w = rng.uniform(0.25, 0.4, n) * step  # half sizes: footprints never overlap
    h = rng.uniform(0.25, 0.4, n) * step
    boxes = shapely.box(x - w, y - h, x + w, y + h)
    wgs = gpd.GeoSeries(boxes, crs=area.crs).to_crs(4326)
    coords, which = shapely.get_coordinates(wgs.to_numpy(), return_index=True)
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    rings = shapely.linearrings(np.column_stack([lon, lat]), indices=which)
    frame = gpd.GeoDataFrame({
        "层数": rng.choice([6, 6, 6, 11, 18, 26], n), "用途": np.where(rng.random(n) < 0.85, "住宅", "商业"),
        "户数": np.where(rng.random(n) < 0.2, rng.integers(20, 300, n), None),
        "联系电话": "13912345678",
    }, geometry=shapely.polygons(rings), crs=4326)
    path = folder / "buildings_gcj02.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def raster_file(area, side: int, folder: Path) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    west, south, east, north = gpd.GeoSeries([area.boundary], crs=area.crs) \
        .to_crs(3857).total_bounds
    cell = max((east - west), (north - south)) / side
    data = np.random.default_rng(1).gamma(1.5, 20.0, (side, side)).astype("float32")
    path = folder / "population.tif"
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=1,
                       dtype="float32", crs="EPSG:3857", nodata=-1,
                       transform=from_origin(west, north, cell, cell)) as dst:
        dst.write(data, 1)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_buildings, side = (10_000, 300) if args.quick else (100_000, 1_000)
    one, five, _ = os.getloadavg()
    print(f"load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores")
    area = synthetic_district(500_000)
    area = type(area)(**{**area.__dict__, "households": None})  # let the model place homes
    settings = HouseholdSettings()
    limits = InputLimits()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = footprints_file(area, n_buildings, folder)
        print(f"\n1. {n_buildings:,} footprints in GCJ-02 ({path.stat().st_size / 1e6:.0f} MB)")
        read, w1, _ = timed("read_buildings (columns, privacy, GCJ-02 → metres)",
                            lambda: read_buildings(path, crs="gcj02", area=area, limits=limits))
        (units, w2, _) = timed("with_buildings + estimate_households (placing homes)",
                               lambda: estimate_households(with_buildings(area, read.frame),
                                                           settings))
        _, w0, _ = timed("alternative: pyogrio.read_dataframe + to_crs (no checks)",
                         lambda: pyogrio.read_dataframe(path).to_crs(area.crs))
        print(f"   -> {len(read.frame):,} footprints, {int(units['households'].sum()):,} "
              f"households on {len(units):,} units; ours {w1 + w2:.2f} s vs bare read {w0:.2f} s")

        raster = raster_file(area, side, folder)
        print(f"\n2. {side:,} × {side:,} population raster ({side * side:,} cells)")
        cells, r1, _ = timed("read_population (window over the area, cells → metres)",
                             lambda: read_population(raster, area=area))
        (spread, report), r2, _ = timed("households_from_population (dasymetric spread)",
                                        lambda: households_from_population(units, cells.cells))

        def naive():
            hit = gpd.sjoin(units[["households", "geometry"]], cells.cells, predicate="within")
            share = hit["households"] / hit.groupby("index_right")["households"].transform("sum")
            return (hit["persons"] * share / 2.62).groupby(level=0).sum()

        _, r0, _ = timed("alternative: geopandas sjoin + groupby (homes only)", naive)
        persons = cells.cells["persons"].sum()
        print(f"   -> {len(cells.cells):,} cells in the area, {report['households']:,} households "
              f"({report['cells_without_homes']:,} cells without homes got a point); total kept "
              f"to {abs(report['households'] * 2.62 - persons) / persons:.4%}; ours {r2:.2f} s "
              f"vs sjoin {r0:.2f} s")


if __name__ == "__main__":
    main()
