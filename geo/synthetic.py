"""A generated Chinese-style district for tests, demos and scaling benchmarks.

Arterial roads every 300–500 m enclose superblocks; a local street crosses each
superblock, cutting it into four gated compounds (小区). Compounds hold rows of mid-rise
slabs (6 storeys) or high-rise towers (18–33 storeys, a few large enough to exceed one
grid's band on their own). Inside the wall, paths run between the rows and reach the
streets only through one or two gates, so walking distances detour as they do in real
gated compounds. Facilities of every catalogue service are placed with per-service
probabilities, some deliberately sparse so that coverage gaps appear.

Everything is seeded (same arguments → same district) and vectorised enough to build a
district of 1,000,000 households in seconds.
"""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.network import build_network
from geo.settings import check_range
from geo.studyarea import StudyArea

#: UTM zone 50N; the district's south-west corner sits at this easting/northing, which
#: puts it in the Beijing area on a web map (it is still generated, not real).
CRS = pyproj.CRS.from_epsg(32650)
ORIGIN = (440_000.0, 4_420_000.0)
ARTERIAL_SETBACK_M = 15.0
LOCAL_SETBACK_M = 8.0
PATH_INSET_M = 5.0

#: (service, where, probability): "superblock" places at most one per superblock on its
#: local street, "compound" at most one per compound inside it, "arterial" bus stops.
FACILITY_PLAN = (
    ("community_service", "superblock", 0.75),
    ("health", "superblock", 0.30),
    ("kindergarten", "compound", 0.30),
    ("primary_school", "superblock", 0.45),
    ("middle_school", "superblock", 0.18),
    ("elderly_care", "superblock", 0.25),
    ("market", "superblock", 0.50),
    ("convenience", "compound", 0.55),
    ("pharmacy", "superblock", 0.55),
    ("sports", "superblock", 0.20),
    ("park", "superblock", 0.30),
    ("bus_stop", "arterial", 0.70),
    ("culture", "superblock", 0.15),
)
SERVICE_NAMES_ZH = {
    "community_service": "社区服务站", "health": "社区卫生服务中心", "kindergarten": "幼儿园",
    "primary_school": "小学", "middle_school": "中学", "elderly_care": "日间照料中心",
    "market": "菜市场", "convenience": "便利店", "pharmacy": "药店", "sports": "健身场地",
    "park": "游园", "bus_stop": "公交站", "culture": "文化活动中心",
}
COMPOUND_NAMES = ("花园", "家园", "小区", "嘉园", "雅苑", "新村", "公寓", "名苑")


def _compound_buildings(rng: np.random.Generator, x0: float, y0: float, x1: float, y1: float,
                        high_rise: bool) -> tuple[list, list[int], list[int], list[float]]:
    """Footprints (boxes), storeys, households and the E–W path rows of one compound."""
    boxes, levels, households = [], [], []
    inner_w = (x1 - x0) - 2 * PATH_INSET_M
    if high_rise:
        row_gap, bw, bd, x_step = 45.0, 24.0, 18.0, 45.0
    else:
        row_gap, bw, bd, x_step = 26.0, 58.0, 12.0, 68.0
    rows = np.arange(y0 + PATH_INSET_M, y1 - PATH_INSET_M + 1e-9, row_gap)
    n_cols = max(1, int(inner_w // x_step))
    margin = (inner_w - n_cols * x_step) / 2 + PATH_INSET_M
    for r in range(rows.size - 1):
        cy = (rows[r] + rows[r + 1]) / 2
        for c in range(n_cols):
            cx = x0 + margin + (c + 0.5) * x_step
            if high_rise:
                storeys = int(rng.integers(18, 34))
                entrances = 3 if rng.random() < 0.12 else 2
                width = bw if entrances == 2 else bw * 1.6
                hh = entrances * 4 * storeys
            else:
                storeys = 6
                entrances = int(rng.integers(3, 5))
                width = bw * entrances / 4
                hh = entrances * 2 * storeys
            boxes.append((cx - width / 2, cy - bd / 2, cx + width / 2, cy + bd / 2))
            levels.append(storeys)
            households.append(hh)
    return boxes, levels, households, list(rows)


def synthetic_district(households: int = 20_000, *, seed: int = 0,
                       high_rise_share: float = 0.5) -> StudyArea:
    """Generate a district holding about ``households`` households.

    Parameters
    ----------
    households
        Target total, 500–2,000,000; the last building is trimmed so the total is exact.
    seed
        Random seed; the same arguments give the same district.
    high_rise_share
        Share of compounds built as high-rise towers rather than mid-rise slabs.

    Returns
    -------
    StudyArea
        With ``households`` set (``hh_source = 'synthetic'``, one point per building) and
        no community layer (communities are derived from the arterial roads).
    """
    check_range("households", households, 500, 2_000_000)
    check_range("high_rise_share", high_rise_share, 0, 1)
    rng = np.random.default_rng(seed)
    per_superblock = 4 * (high_rise_share * 1700 + (1 - high_rise_share) * 600)
    n_blocks = max(1, int(np.ceil(households / per_superblock * 1.15)))
    nx = int(np.ceil(np.sqrt(n_blocks)))
    ny = int(np.ceil(n_blocks / nx))
    xa = np.concatenate([[0.0], np.cumsum(rng.uniform(300, 500, nx))]) + ORIGIN[0]
    ny = 4 * ny + 4  # rows are added until the target is reached; unused rows are dropped
    ya = np.concatenate([[0.0], np.cumsum(rng.uniform(300, 500, ny))]) + ORIGIN[1]

    cuts: dict[tuple, list[float]] = defaultdict(list)  # street line → cut coordinates
    paths: list[tuple[float, float, float, float]] = []
    b_boxes, b_levels, b_hh, b_compound = [], [], [], []
    c_boxes, c_names, c_high = [], [], []
    fac_rows: list[tuple[str, float, float]] = []
    total = 0
    done = False

    for j in range(ny):
        for i in range(nx):  # a started row of superblocks is finished (as open land)
            xm = (xa[i] + xa[i + 1]) / 2
            ym = (ya[j] + ya[j + 1]) / 2
            cuts[("lv", i, j)] += [ya[j], ym, ya[j + 1]]
            cuts[("lh", i, j)] += [xa[i], xm, xa[i + 1]]
            cuts[("av", i)] += [ym]
            cuts[("av", i + 1)] += [ym]
            cuts[("ah", j)] += [xm]
            cuts[("ah", j + 1)] += [xm]
            for qx, qy in ((0, 0), (1, 0), (0, 1), (1, 1)):
                if done:
                    continue
                x0 = xa[i] + ARTERIAL_SETBACK_M if qx == 0 else xm + LOCAL_SETBACK_M
                x1 = xm - LOCAL_SETBACK_M if qx == 0 else xa[i + 1] - ARTERIAL_SETBACK_M
                y0 = ya[j] + ARTERIAL_SETBACK_M if qy == 0 else ym + LOCAL_SETBACK_M
                y1 = ym - LOCAL_SETBACK_M if qy == 0 else ya[j + 1] - ARTERIAL_SETBACK_M
                high = bool(rng.random() < high_rise_share)
                boxes, levels, hh, rows = _compound_buildings(rng, x0, y0, x1, y1, high)
                compound_id = len(c_boxes)
                for box, lev, h in zip(boxes, levels, hh):
                    if total + h >= households:
                        h = households - total
                        done = True
                    b_boxes.append(box)
                    b_levels.append(lev)
                    b_hh.append(h)
                    b_compound.append(compound_id)
                    total += h
                    if done:
                        break
                c_boxes.append((x0, y0, x1, y1))
                c_names.append(f"{['东', '西', '南', '北', '新', '和', '安', '福'][compound_id % 8]}"
                               f"{compound_id + 1}{COMPOUND_NAMES[compound_id % len(COMPOUND_NAMES)]}")
                c_high.append(high)
                # internal paths: perimeter verticals and E-W rows, cut at each crossing
                px0, px1 = x0 + PATH_INSET_M, x1 - PATH_INSET_M
                xs = [px0, px1]
                if px1 - px0 > 140:
                    xs.insert(1, (px0 + px1) / 2)
                for a, b in zip(rows[:-1], rows[1:]):
                    for x in xs:
                        paths.append((x, a, x, b))
                for y in rows:
                    for a, b in zip(xs[:-1], xs[1:]):
                        paths.append((a, y, b, y))
                # gates: one to the local street, half the compounds one to the arterial
                gate_y = rows[len(rows) // 2]
                if qx == 0:
                    paths.append((px1, gate_y, xm, gate_y))
                    cuts[("lv", i, j)].append(gate_y)
                else:
                    paths.append((xm, gate_y, px0, gate_y))
                    cuts[("lv", i, j)].append(gate_y)
                if rng.random() < 0.5:
                    side_y = rows[max(0, len(rows) // 2 - 1)]
                    if qx == 0:
                        paths.append((xa[i], side_y, px0, side_y))
                        cuts[("av", i)].append(side_y)
                    else:
                        paths.append((px1, side_y, xa[i + 1], side_y))
                        cuts[("av", i + 1)].append(side_y)
                for service, where, prob in FACILITY_PLAN:
                    if where == "compound" and rng.random() < prob:
                        fac_rows.append((service, (px0 + px1) / 2 + rng.uniform(-20, 20),
                                         rows[0] + 2.0))
            for service, where, prob in FACILITY_PLAN:
                if where == "superblock" and rng.random() < prob:
                    y = rng.uniform(ya[j] + 40, ya[j + 1] - 40)
                    fac_rows.append((service, xm + rng.choice([-5.0, 5.0]), y))
                elif where == "arterial" and rng.random() < prob:
                    fac_rows.append((service, xa[i] + 6.0, ym + 20.0))
        if done:
            break

    used_nx = nx
    used_ny = j + 1
    for i in range(used_nx + 1):
        cuts[("av", i)] += list(ya[: used_ny + 1])
    for jj in range(used_ny + 1):
        cuts[("ah", jj)] += list(xa[: used_nx + 1])

    seg_rows: list[tuple[float, float, float, float]] = []
    seg_class: list[str] = []
    seg_highway: list[str] = []
    for key, values in cuts.items():
        kind = key[0]
        if kind in ("av", "ah") and key[1] > (used_nx if kind == "av" else used_ny):
            continue
        v = np.unique(np.round(values, 3))
        if kind == "av":
            v = v[(v >= ya[0]) & (v <= ya[used_ny])]
            fixed = xa[key[1]]
        elif kind == "ah":
            v = v[(v >= xa[0]) & (v <= xa[used_nx])]
            fixed = ya[key[1]]
        elif kind == "lv":
            fixed = (xa[key[1]] + xa[key[1] + 1]) / 2
        else:
            fixed = (ya[key[2]] + ya[key[2] + 1]) / 2
        vertical = kind in ("av", "lv")
        for a, b in zip(v[:-1], v[1:]):
            seg_rows.append((fixed, a, fixed, b) if vertical else (a, fixed, b, fixed))
            seg_class.append("arterial" if kind in ("av", "ah") else "local")
            seg_highway.append("secondary" if kind in ("av", "ah") else "residential")
    seg_rows += paths
    seg_class += ["path"] * len(paths)
    seg_highway += ["footway"] * len(paths)

    seg = np.asarray(seg_rows, dtype=float)
    lines = shapely.linestrings(np.stack([seg[:, [0, 1]], seg[:, [2, 3]]], axis=1))
    roads = gpd.GeoDataFrame(
        {"highway": seg_highway, "name": "", "road_class": seg_class, "walkable": True},
        geometry=lines, crs=CRS)
    network = build_network(roads, source="synthetic district")

    bb = np.asarray(b_boxes, dtype=float)
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{k:06d}" for k in range(len(bb))],
         "building": "residential", "levels": np.asarray(b_levels, dtype=float),
         "height_m": np.asarray(b_levels, dtype=float) * 3.0, "name": "",
         "compound_id": [f"C{c:05d}" for c in b_compound]},
        geometry=shapely.box(bb[:, 0], bb[:, 1], bb[:, 2], bb[:, 3]), crs=CRS)
    cb = np.asarray(c_boxes, dtype=float)
    compounds = gpd.GeoDataFrame(
        {"compound_id": [f"C{c:05d}" for c in range(len(cb))], "name": c_names,
         "high_rise": c_high},
        geometry=shapely.box(cb[:, 0], cb[:, 1], cb[:, 2], cb[:, 3]), crs=CRS)
    points = buildings.geometry.centroid
    hh = gpd.GeoDataFrame(
        {"unit_id": buildings["building_id"].to_numpy(),
         "households": np.asarray(b_hh, dtype=np.int64),
         "hh_source": "synthetic", "building_id": buildings["building_id"].to_numpy(),
         "compound_id": buildings["compound_id"].to_numpy(),
         "levels": buildings["levels"].to_numpy()},
        geometry=points.values, crs=CRS)
    hh = hh[hh["households"] > 0].reset_index(drop=True)

    # every service exists somewhere, however small the district (gaps, not absences)
    present = {row[0] for row in fac_rows}
    for service, _, _ in FACILITY_PLAN:
        if service not in present:
            i = int(rng.integers(0, used_nx))
            jj = int(rng.integers(0, used_ny))
            y = rng.uniform(ya[jj] + 40, ya[jj + 1] - 40)
            fac_rows.append((service, (xa[i] + xa[i + 1]) / 2 + 5.0, y))
    fac = pd.DataFrame(fac_rows, columns=["service", "x", "y"])
    counters: dict[str, int] = defaultdict(int)
    names = []
    for service in fac["service"]:
        counters[service] += 1
        names.append(f"{SERVICE_NAMES_ZH[service]}{counters[service]}号")
    facilities = gpd.GeoDataFrame(
        {"facility_id": [f"F{k:05d}" for k in range(len(fac))], "service": fac["service"],
         "name": names, "source": "synthetic"},
        geometry=shapely.points(fac[["x", "y"]].to_numpy()), crs=CRS)
    boundary = shapely.box(xa[0], ya[0], xa[used_nx], ya[used_ny])
    return StudyArea(
        name=f"synthetic-{households}-{seed}", crs=CRS, boundary=boundary, roads=roads,
        buildings=buildings, compounds=compounds, facilities=facilities, network=network,
        communities=None, households=hh, osm_derived=False)
