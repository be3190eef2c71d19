"""Reading uploads: what the checks cost, and how exact the GCJ-02 inverse is.

1. A GBK household register of N rows (Chinese headers, personal columns, coordinates)
   read by ``geo.inputs.read_households`` — encoding detection, column recognition,
   privacy scan, CRS checks, projection (and, with a study area, the checks against it) —
   beside the naive alternative that already knows the encoding and the column names:
   ``pandas.read_csv(encoding="gbk")`` + ``points_from_xy`` + ``to_crs``.
2. GCJ-02 → WGS84 for 1,000,000 points: our iterated inverse beside the common one-step
   approximation (subtract the offset computed at the shifted point), speed and worst
   error in metres against the forward transform.

Run: ``python benchmarks/bench_inputs.py`` (``--rows 200000`` by default).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_register(rows: int) -> None:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from geo.inputs import read_households
    from geo.synthetic import synthetic_district

    area = synthetic_district(20_000, seed=0)
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = area.boundary.bounds
    pts = gpd.GeoSeries(gpd.points_from_xy(rng.uniform(x0, x1, rows), rng.uniform(y0, y1, rows)),
                        crs=area.crs).to_crs(4326)
    names = area.compounds["name"].to_numpy()
    table = pd.DataFrame({
        "小区": names[rng.integers(0, len(names), rows)],
        "楼栋": [f"{k % 40 + 1}号楼" for k in range(rows)],
        "户数": rng.integers(1, 200, rows),
        "户主姓名": "王秀英", "身份证号": "110101199003071234", "联系电话": "13912345678",
        "经度": np.round(pts.x.to_numpy(), 7), "纬度": np.round(pts.y.to_numpy(), 7)})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register.csv"
        buf = io.StringIO()
        table.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
        path.write_bytes(buf.getvalue().encode("gbk"))
        size_mb = path.stat().st_size / 2**20

        t0 = time.perf_counter()
        naive = pd.read_csv(path, encoding="gbk")
        naive = gpd.GeoDataFrame(naive, geometry=gpd.points_from_xy(naive["经度"], naive["纬度"]),
                                 crs=4326).to_crs(area.crs)
        t_naive = time.perf_counter() - t0

        t0 = time.perf_counter()
        ours = read_households(path)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours_area = read_households(path, area=area)
        t_area = time.perf_counter() - t0
    assert len(ours.frame) == len(ours_area.frame) == len(naive) == rows
    assert "户主姓名" in naive.columns and "户主姓名" not in ours.frame.columns
    print(f"register: {rows:,} rows, {size_mb:.1f} MB GBK CSV")
    print(f"  pandas.read_csv(encoding='gbk') + points_from_xy + to_crs : {t_naive:6.2f} s")
    print(f"  read_households (detects encoding, columns, privacy)     : {t_ours:6.2f} s "
          f"({t_ours / t_naive:.1f}x the naive read)")
    print(f"  read_households with the study area checks              : {t_area:6.2f} s "
          f"({t_area / t_naive:.1f}x)")


def bench_gcj(points: int) -> None:
    import numpy as np
    from pyproj import Geod

    from geo import chinacrs

    rng = np.random.default_rng(1)
    lon = rng.uniform(74.0, 134.5, points)
    lat = rng.uniform(18.5, 53.0, points)
    inside = chinacrs.in_mainland_china(lon, lat)
    lon, lat = lon[inside], lat[inside]
    g_lon, g_lat = chinacrs.wgs84_to_gcj02(lon, lat)

    t0 = time.perf_counter()
    a_lon, a_lat = chinacrs.gcj02_to_wgs84(g_lon, g_lat)
    t_iter = time.perf_counter() - t0
    t0 = time.perf_counter()
    f_lon, f_lat = chinacrs.wgs84_to_gcj02(g_lon, g_lat)  # the one-step approximation
    b_lon, b_lat = g_lon - (f_lon - g_lon), g_lat - (f_lat - g_lat)
    t_once = time.perf_counter() - t0
    geod = Geod(ellps="WGS84")
    err_iter = geod.inv(lon, lat, a_lon, a_lat)[2]
    err_once = geod.inv(lon, lat, b_lon, b_lat)[2]
    print(f"GCJ-02 -> WGS84, {lon.size:,} points over mainland China")
    print(f"  one-step approximation : {t_once:6.3f} s, worst error {err_once.max():8.3f} m, "
          f"median {np.median(err_once):.3f} m")
    print(f"  iterated inverse (ours): {t_iter:6.3f} s, worst error {err_iter.max():8.6f} m "
          f"({t_iter / t_once:.1f}x the time, {err_once.max() / max(err_iter.max(), 1e-9):,.0f}x "
          f"smaller worst error)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_register(args.rows)
    bench_gcj(args.points)


if __name__ == "__main__":
    main()
