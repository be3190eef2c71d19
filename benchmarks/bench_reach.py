"""Benchmark: walking minutes, coverage and siting against the usual alternatives.

Run from the repository root::

    python benchmarks/bench_reach.py            # everything (~3-5 minutes, ~6 GB RAM)
    python benchmarks/bench_reach.py --quick    # smaller networks, for a smoke test

Sections, each printed side by side in one run:

1. the osmnx tutorial isochrone recipe (``nx.ego_graph`` per facility and trip time,
   convex hull of the reached nodes, then households in polygons) for 100 facilities on a
   ~100k-node network, against ``prepare_reach`` + ``household_minutes``; also how many
   households the recipe misclassifies against the per-household answer; each side
   ``--runs`` times (default 3) on inputs made afresh, imports outside both clocks, the
   best run of each compared (and the first run of each, printed beside it);
2. pandana ``Network`` (contraction hierarchies) + ``set_pois`` + ``nearest_pois`` for 13
   services, precompute included, against ours on the same network (pandana is a
   benchmark-only extra, see benchmarks/requirements.txt; skipped with a note if missing);
3. a 1,000,000-node walking network with all 13 services: every household's minutes;
4. siting 5 new sites among 10,000 candidates for 100,000 households.

Networks are generated lattices (a share of edges removed, so there are detours and
islands); the synthetic district is too sparse (~13k nodes per million households).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import reach as R  # noqa: E402
from analysis import siting as S  # noqa: E402
from analysis.settings import WalkSettings  # noqa: E402
from geo.network import WalkNetwork, build_network  # noqa: E402

CRS = "EPSG:32650"
SECTIONS = ("osmnx", "pandana", "siting", "million")
#: Facilities per km² for each service in the generated city (sparse ones leave gaps).
DENSITY_PER_KM2 = {
    "community_service": 2.0, "health": 0.5, "kindergarten": 2.0, "primary_school": 1.0,
    "middle_school": 0.4, "elderly_care": 0.5, "market": 1.0, "convenience": 6.0,
    "pharmacy": 2.0, "sports": 0.5, "park": 1.0, "bus_stop": 4.0, "culture": 0.3,
}


def clock() -> float:
    return time.perf_counter()


def cpu() -> float:
    """CPU seconds of this process (the machine is shared: wall time includes waiting)."""
    return time.process_time()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def lattice_network(n_side: int, spacing_m: float, *, drop: float, seed: int,
                    jitter: float = 0.25) -> WalkNetwork:
    """A jittered street lattice of about ``n_side²`` nodes with a share of edges removed."""
    rng = np.random.default_rng(seed)
    xs = np.arange(n_side) * spacing_m
    gx, gy = np.meshgrid(xs, xs, indexing="ij")
    # jitter the junctions so street lengths vary, as in a real city (a perfect lattice
    # with equal lengths is a worst case for contraction hierarchies)
    gx = gx + rng.uniform(-jitter, jitter, gx.shape) * spacing_m
    gy = gy + rng.uniform(-jitter, jitter, gy.shape) * spacing_m
    h = np.stack([gx[:-1, :].ravel(), gy[:-1, :].ravel(), gx[1:, :].ravel(), gy[1:, :].ravel()], 1)
    v = np.stack([gx[:, :-1].ravel(), gy[:, :-1].ravel(), gx[:, 1:].ravel(), gy[:, 1:].ravel()], 1)
    seg = np.concatenate([h, v])
    seg = seg[rng.random(len(seg)) >= drop]
    lines = shapely.linestrings(np.stack([seg[:, :2], seg[:, 2:]], axis=1))
    frame = gpd.GeoDataFrame({"road_class": np.full(len(lines), "local", dtype=object)},
                             geometry=lines, crs=CRS)
    return build_network(frame, source="benchmark lattice")


def households_frame(n: int, extent_m: float, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent_m, (n, 2))
    return gpd.GeoDataFrame({"households": rng.integers(20, 200, n)},
                            geometry=shapely.points(xy), crs=CRS)


def facilities_frame(extent_m: float, seed: int, *, only: dict | None = None) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    km2 = (extent_m / 1000) ** 2
    counts = only or {s: max(1, int(round(d * km2))) for s, d in DENSITY_PER_KM2.items()}
    rows = [(s, x, y) for s, c in counts.items() for x, y in rng.uniform(0, extent_m, (c, 2))]
    frame = pd.DataFrame(rows, columns=["service", "x", "y"])
    return gpd.GeoDataFrame({"facility_id": [f"F{k:06d}" for k in range(len(frame))],
                             "service": frame["service"]},
                            geometry=shapely.points(frame[["x", "y"]].to_numpy()), crs=CRS)


# -------------------------------------------------------------------------------------
def osmnx_graph(net: WalkNetwork) -> nx.MultiDiGraph:
    """The network as osmnx holds it: a MultiDiGraph with x/y and length (both ways)."""
    g = nx.MultiDiGraph(crs=net.crs)
    g.add_nodes_from((i, {"x": x, "y": y}) for i, (x, y) in enumerate(net.node_xy.tolist()))
    u, v, length = net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length_m.tolist()
    g.add_edges_from((a, b, {"length": w}) for a, b, w in zip(u, v, length))
    g.add_edges_from((b, a, {"length": w}) for a, b, w in zip(u, v, length))
    return g


def osmnx_recipe(g: nx.MultiDiGraph, fac_xy: np.ndarray, hh_xy: np.ndarray, *,
                 speed_mps: float, trip_times: tuple[int, ...], threshold_min: float
                 ) -> np.ndarray:
    """The osmnx isochrone tutorial, per facility, then households in polygons."""
    import osmnx as ox

    meters_per_minute = speed_mps * 60
    for _, _, _, data in g.edges(data=True, keys=True):
        data["time"] = data["length"] / meters_per_minute
    centre_nodes = ox.distance.nearest_nodes(g, fac_xy[:, 0], fac_xy[:, 1])
    polys: dict[float, list] = {t: [] for t in trip_times}
    for centre in centre_nodes:
        for trip_time in sorted(trip_times, reverse=True):
            sub = nx.ego_graph(g, centre, radius=trip_time, distance="time")
            node_points = [shapely.Point((d["x"], d["y"])) for _, d in sub.nodes(data=True)]
            polys[trip_time].append(gpd.GeoSeries(node_points).union_all().convex_hull)
    area = shapely.union_all(polys[threshold_min])
    shapely.prepare(area)
    return shapely.contains_xy(area, hh_xy[:, 0], hh_xy[:, 1])


def section_osmnx(make_net, hh, settings, *, n_fac: int, service: str, runs: int) -> None:
    """Both sides ``runs`` times, interleaved (a recipe run, then one of ours), each run on
    inputs made afresh outside its clock: the recipe on a new graph, ours on a network
    built again (nothing kept from the run before: no segment index, no search graph).
    Module imports are outside both clocks (ours are made at the top of this script,
    osmnx's here, before the recipe's first run: its import alone takes 1-2 s, more than
    a tenth of the recipe). The machine is shared and both sides' times vary with its
    load: the ratios are the best run of each side against each other, and the first
    run of each (ours then in a process that has just run the recipe)."""
    importlib.import_module("osmnx")  # before the recipe's clock, as ours' modules are

    net = make_net()
    print(f"\n== 1. osmnx isochrone recipe vs ours: {net.n_nodes:,} nodes, {n_fac} facilities, "
          f"{len(hh):,} household points; each side {runs} run(s), interleaved ==")
    extent = net.node_xy.max()
    fac = facilities_frame(extent, 11, only={service: n_fac})
    fac_xy = shapely.get_coordinates(fac.geometry.to_numpy())
    hh_xy = shapely.get_coordinates(hh.geometry.to_numpy())
    thr = settings.threshold_min(service)
    t_recipe, t_parts = [], []
    for run in range(runs):
        g = osmnx_graph(net)
        t0 = clock()
        inside = osmnx_recipe(g, fac_xy, hh_xy, speed_mps=settings.speed_mps(service),
                              trip_times=tuple(int(m) for m in settings.minutes),
                              threshold_min=thr)
        t_recipe.append(clock() - t0)
        del g
        if run:
            net = make_net()  # a network built again: nothing kept from the run before
        gc.collect()
        t0 = clock()
        net.snap(fac_xy[:1])  # builds the network's segment index, kept with the network
        t1 = clock()
        index = R.prepare_reach(net, hh, fac, services=(service,))
        t2 = clock()
        result = R.household_minutes(index, settings, services=(service,))
        t_parts.append((t1 - t0, t2 - t1, clock() - t2))
    print(f"({load()})")
    covered = result.covered(service) & index.on_network
    w = index.household_weight
    on = index.on_network
    fp = int(w[on & inside & ~covered].sum())
    fn = int(w[on & ~inside & covered].sum())
    total = int(w[on].sum())
    t_ours = [sum(p) for p in t_parts]
    best = int(np.argmin(t_ours))
    t_net_index, t_prep, t_query = t_parts[best]
    runs_text = lambda ts: ", ".join(f"{t:.3f}" for t in ts)  # noqa: E731
    print(f"osmnx recipe (ego_graph x {n_fac} facilities x {len(settings.minutes)} trip times "
          f"+ hulls + points in polygon): best {min(t_recipe):8.2f} s (runs: "
          f"{runs_text(t_recipe)} s)")
    print(f"ours, best run {min(t_ours):.3f} s (runs: {runs_text(t_ours)} s), of which:")
    print(f"ours, the network's segment index (once per network, kept): {t_net_index:8.3f} s")
    print(f"ours, precompute (snap homes and facilities to edges):          {t_prep:8.3f} s")
    print(f"ours, query (one multi-source Dijkstra + every home's minutes):   {t_query:8.3f} s")
    print(f"ratio recipe / ours (everything included, best run of each): "
          f"{min(t_recipe) / min(t_ours):7.1f}x; first run of each: "
          f"{t_recipe[0] / t_ours[0]:7.1f}x")
    print(f"ratio recipe / ours (network index built with the network, as the recipe's "
          f"graph is): {min(t_recipe) / (t_prep + t_query):7.1f}x")
    print(f"ratio recipe / ours (query, as on every click): {min(t_recipe) / t_query:7.1f}x")
    print(f"answer at {thr:g} min: recipe says {int(w[on & inside].sum()):,} households covered, "
          f"per-household network answer {int(w[covered].sum()):,} of {total:,}; recipe "
          f"misclassifies {fp + fn:,} households ({(fp + fn) / total:.1%}: {fp:,} falsely "
          f"covered, {fn:,} falsely uncovered)")


# -------------------------------------------------------------------------------------
def section_pandana(net, hh, fac, settings) -> None:
    services = tuple(DENSITY_PER_KM2)
    print(f"\n== 2. pandana nearest_pois vs ours: {net.n_nodes:,} nodes, {len(services)} services, "
          f"{len(fac):,} facilities, {len(hh):,} household points ==")
    try:
        import pandana as pdna
    except ImportError:
        print("pandana is not installed here (pip install -r benchmarks/requirements.txt); "
              "section skipped")
        return
    horizon_min = max(settings.threshold_min(s) for s in services)
    limit_m = horizon_min * 60 * max(settings.speed_mps(s) for s in services)
    hh_xy = shapely.get_coordinates(hh.geometry.to_numpy())
    fac_xy = shapely.get_coordinates(fac.geometry.to_numpy())
    t0 = clock()
    nodes = pd.DataFrame({"x": net.node_xy[:, 0], "y": net.node_xy[:, 1]})
    edges = pd.DataFrame({"from": net.edge_u, "to": net.edge_v, "length": net.edge_length_m})
    pnet = pdna.Network(nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["length"]],
                        twoway=True)
    hh_nodes = pnet.get_node_ids(pd.Series(hh_xy[:, 0]), pd.Series(hh_xy[:, 1])).to_numpy()
    pandana_m = {}
    for service in services:
        mine = (fac["service"] == service).to_numpy()
        pnet.set_pois(category=service, maxdist=limit_m, maxitems=1,
                      x_col=pd.Series(fac_xy[mine, 0]), y_col=pd.Series(fac_xy[mine, 1]))
        dist = pnet.nearest_pois(limit_m, service, num_pois=1, max_distance=np.inf)
        pandana_m[service] = dist[1].reindex(range(net.n_nodes)).to_numpy()[hh_nodes]
    t_pandana = clock() - t0
    local = WalkSettings(horizon_min=horizon_min)
    t0 = clock()
    index = R.prepare_reach(net, hh, fac, services=services)
    t_prep = clock() - t0
    t0 = clock()
    result = R.household_minutes(index, local, services=services)
    t_query = clock() - t0
    t_ours = t_prep + t_query
    agree = []
    on = index.on_network
    for service in services:
        ours = result.covered(service)
        theirs = pandana_m[service] <= local.threshold_m(service)
        agree.append(float((ours == theirs)[on].mean()))
    print(f"pandana (CH precompute + node ids + set_pois/nearest_pois x {len(services)}): "
          f"{t_pandana:8.2f} s")
    print(f"ours (prepare_reach + household_minutes x {len(services)}): {t_ours:8.2f} s "
          f"(precompute {t_prep:.2f} s, query {t_query:.2f} s)")
    print(f"ratio pandana / ours (precompute included): {t_pandana / t_ours:6.1f}x; "
          f"query only: {t_pandana / t_query:6.1f}x")
    print(f"covered / not covered verdicts agree for {np.mean(agree):.1%} of homes "
          "(pandana snaps homes and facilities to the nearest node, ours to the nearest edge "
          "plus the straight walk to it)")


# -------------------------------------------------------------------------------------
def section_million(n_side: int, settings, *, n_hh: int) -> None:
    t0 = clock()
    net = lattice_network(n_side, 30.0, drop=0.05, seed=3)
    t_build = clock() - t0
    extent = net.node_xy.max()
    hh = households_frame(n_hh, extent, 4)
    fac = facilities_frame(extent, 5)
    services = tuple(DENSITY_PER_KM2)
    print(f"\n== 3. {net.n_nodes:,}-node network ({extent / 1000:.0f} km square), "
          f"{len(services)} services, {len(fac):,} facilities, {n_hh:,} household points ==")
    print(f"(setup: network built from {net.n_edges:,} lines in {t_build:.1f} s, not counted)")
    t0, c0 = clock(), cpu()
    index = R.prepare_reach(net, hh, fac, services=services)
    t_prep, c_prep = clock() - t0, cpu() - c0
    t0, c0 = clock(), cpu()
    result = R.household_minutes(index, settings, services=services)
    t_query, c_query = clock() - t0, cpu() - c0
    reached = np.isfinite(result.minutes.to_numpy()).mean()
    load_ours = load()
    # the yardstick: the shortest-path library alone, one multi-source pass per service on
    # the same augmented graph from the same sources (distances only, nothing else)
    t0, c0 = clock(), cpu()
    for service in services:
        sources = index.facilities["node"].to_numpy()[index.facility_rows(service)]
        csgraph.dijkstra(index.graph, directed=True, indices=sources, min_only=True,
                         limit=settings.horizon_m(service))
    t_bare, c_bare = clock() - t0, cpu() - c0
    print(f"precompute (snap {n_hh:,} homes + facilities to edges, augment graph): "
          f"{t_prep:6.2f} s wall, {c_prep:6.2f} s CPU")
    print(f"every household's minutes to all {len(services)} services: {t_query:6.2f} s wall, "
          f"{c_query:6.2f} s CPU (target < 10 s; {reached:.1%} of home x service pairs within "
          f"the {settings.horizon_min:g}-min horizon; compiled snapping: {_compiled()})")
    print(f"total, precompute included: {t_prep + t_query:6.2f} s wall, "
          f"{c_prep + c_query:6.2f} s CPU; {load_ours}")
    print(f"{len(services)} bare scipy.sparse.csgraph.dijkstra multi-source passes (min_only, "
          f"distances only, same graph and sources): {t_bare:6.2f} s wall, {c_bare:6.2f} s CPU; "
          f"{load()}")
    print(f"ratio ours all-in / bare scipy passes: {(t_prep + t_query) / t_bare:5.2f} wall, "
          f"{(c_prep + c_query) / c_bare:5.2f} CPU (target < 1)")


def _compiled() -> str:
    try:
        from geo.compiled import available
    except ImportError:  # the code before the compiled snapping
        return "no (not in this version)"
    return "yes" if available() else "no (numba not available)"


# -------------------------------------------------------------------------------------
def section_siting(net, settings, *, n_hh: int, n_cand: int, p: int, service: str) -> None:
    extent = net.node_xy.max()
    hh = households_frame(n_hh, extent, 21)
    km2 = (extent / 1000) ** 2
    fac = facilities_frame(extent, 22, only={service: max(1, int(km2 * 0.6))})
    print(f"\n== 4. siting {p} new {service} sites among {n_cand:,} candidates for "
          f"{n_hh:,} household points ({net.n_nodes:,}-node network) ==")
    t0 = clock()
    index = R.prepare_reach(net, hh, fac, services=(service,))
    reach = R.household_minutes(index, settings, services=(service,))
    t_reach = clock() - t0
    rng = np.random.default_rng(23)
    pool = S.residential_nodes(index)
    cands = rng.choice(pool, size=min(n_cand, pool.size), replace=False)
    t0 = clock()
    result = S.site_facilities(index, reach, service, p, candidates=cands, method="greedy")
    t_site = clock() - t0
    print(f"reach for the service (precompute + minutes): {t_reach:6.2f} s")
    print(f"siting (exact coverage model + multi-start greedy with swaps): {t_site:6.2f} s "
          f"(target < 10 s); {result.report['pairs']:,} candidate-household pairs")
    print(f"coverage before {result.coverage_before:.1%} -> after {result.coverage_after:.1%} "
          f"(+{result.covered_after - result.covered_before:,} households; plain greedy "
          f"{result.report['greedy_plain_covered']:,}, improved {result.report['greedy_covered']:,})")
    small = rng.choice(cands, size=300, replace=False)
    t0 = clock()
    check = S.site_facilities(index, reach, service, p, candidates=small, method="exact")
    t_exact = clock() - t0
    print(f"check on 300 candidates: exact (HiGHS) covers {check.report['exact_covered']:,}, "
          f"greedy {check.report['greedy_covered']:,} "
          f"({check.report['greedy_covered'] / max(check.report['exact_covered'], 1):.2%} of "
          f"optimum); {t_exact:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, default=list(SECTIONS),
                        help="run only these sections")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each side in section 1 (the best of each is compared)")
    parser.add_argument("--side", type=int, default=None,
                        help="nodes per side of the million-node lattice (default 1000)")
    args = parser.parse_args()
    settings = WalkSettings()
    side_100k = 100 if args.quick else 316
    side_1m = args.side or (300 if args.quick else 1000)
    print(f"Gridcircle reach benchmark{' (quick)' if args.quick else ''}; "
          f"speeds {dict(settings.speeds_mps)} m/s; horizon {settings.horizon_min:g} min; "
          f"{load()}")
    if {"osmnx", "pandana", "siting"} & set(args.only):
        t0 = clock()
        def make_net() -> WalkNetwork:
            return lattice_network(side_100k, 60.0, drop=0.10, seed=1)

        net = make_net()
        print(f"(setup: {net.n_nodes:,}-node lattice built in {clock() - t0:.1f} s)")
        extent = net.node_xy.max()
        hh = households_frame(10_000 if args.quick else 30_000, extent, 2)
        if "osmnx" in args.only:
            section_osmnx(make_net, hh, settings, n_fac=100, service="primary_school",
                          runs=args.runs)
        if "pandana" in args.only:
            section_pandana(net, hh, facilities_frame(extent, 12), settings)
        if "siting" in args.only:
            section_siting(net, settings, n_hh=10_000 if args.quick else 100_000,
                           n_cand=2_000 if args.quick else 10_000, p=5, service="primary_school")
        del net, hh
        gc.collect()
    if "million" in args.only:
        section_million(side_1m, settings, n_hh=100_000 if args.quick else 1_000_000)
    print(f"\n(end: {load()})")


if __name__ == "__main__":
    main()
