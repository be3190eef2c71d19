"""Benchmark: capacity against demand (two-step floating catchment) against pysal ``access``.

Run from the repository root::

    python benchmarks/bench_capacity.py            # 100,000 home points compared, 100,000 timed
    python benchmarks/bench_capacity.py --quick    # small sizes, for a smoke test

Sections, printed in one run:

1. on a generated street lattice with 100,000 home points (bench_reach.py's city), the
   same households, facilities and walking costs given to pysal ``access``
   (``Access.two_stage_fca``; a benchmark-only extra, see benchmarks/requirements.txt) and
   to :func:`analysis.capacity.two_step`: the largest difference of ``Rⱼ`` (supply per
   unit of demand at each facility) and ``Aᵢ`` (accessible supply per unit of demand at
   each home), and the times — the method alone on the same cost table, and end to end
   (ours: the bounded walks from each facility on the network plus the method; ``access``:
   the same walks handed over as its cost table, plus its method);
2. the 100,000-household synthetic district: the capacity stage for every service with
   capacities (kindergarten, primary and middle school, elderly care, clinics), given the
   reach index the coverage step already built (its time is printed apart).

Capacities are random whole numbers (seeded); the demand table's missing shares are
filled with test figures (not census figures), so that every service has a demand.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.capacity import model as K  # noqa: E402
from analysis.capacity.pairs import facility_pairs  # noqa: E402
from analysis.capacity.stage import DEFAULT_TABLE, CapacitySettings, capacity_stage  # noqa: E402
from analysis.stages import Inputs, Runner  # noqa: E402
from geo.synthetic import synthetic_district  # noqa: E402

SERVICES = ("kindergarten", "primary_school", "middle_school", "elderly_care", "health")
#: Test shares for the benchmark only (the bundled table leaves uncited shares empty).
TEST_SHARES = {"kindergarten": "0.03", "primary_school": "0.07", "middle_school": "0.035"}


def clock() -> float:
    return time.perf_counter()


def best_of(fn, repeat: int = 3) -> tuple[object, float]:
    """``fn()``'s value and its least time over ``repeat`` calls (warm caches alike)."""
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = clock()
        value = fn()
        best = min(best, clock() - t0)
    return value, best


def district(households: int, seed: int = 0):
    t0 = clock()
    area = synthetic_district(households, seed=seed)
    runner = Runner(inputs=Inputs(area=area, key=("bench", households, seed)))
    base = runner.get("base")
    t1 = clock()
    index = runner.get("index")
    t2 = clock()
    rng = np.random.default_rng(seed)
    fac = base.facilities.copy()
    fac["capacity"] = rng.integers(100, 1500, len(fac)).astype(float)
    fac["capacity_source"] = "given"
    return base, fac, index, runner.walk, {"district_s": t1 - t0, "index_s": t2 - t1}


def lattice_city(n_side: int, n_homes: int, seed: int = 0):
    """A generated street lattice (bench_reach.py's) with ``n_homes`` home points and
    facilities at bench_reach.py's densities: many more (facility, home) pairs than the
    synthetic district, whose homes are whole buildings."""
    from analysis.reach import prepare_reach
    from analysis.settings import WalkSettings
    from benchmarks.bench_reach import facilities_frame, households_frame, lattice_network

    net = lattice_network(n_side, 100.0, drop=0.1, seed=seed)
    extent = (n_side - 1) * 100.0
    homes = households_frame(n_homes, extent, seed)
    fac = facilities_frame(extent, seed + 1)
    walk = WalkSettings()
    t0 = clock()
    index = prepare_reach(net, homes, fac, services=walk.services)
    times = {"index_s": clock() - t0}
    fac = fac.assign(capacity=np.random.default_rng(seed).integers(100, 1500, len(fac))
                     .astype(float))
    return homes, fac, index, walk, times


def compare_access(n_side: int, n_homes: int, service: str = "primary_school") -> None:
    import access
    from access import Access, fca

    homes, fac, index, walk, times = lattice_city(n_side, n_homes)
    households = n_homes
    limit = float(walk.threshold_m(service))
    persons = homes["households"].to_numpy(dtype=float) * 2.62 * 0.07
    pairs, ours_walks = best_of(lambda: facility_pairs(index, service, limit))
    supply = fac["capacity"].to_numpy(dtype=float)[pairs.rows]
    (ratio, acc), ours_method = best_of(lambda: K.two_step(pairs, persons, supply,
                                                           limit_m=limit))

    demand_df = pd.DataFrame({"home": np.arange(pairs.n_homes), "pop": persons})
    supply_df = pd.DataFrame({"fac": np.arange(pairs.n_facilities), "cap": supply})

    def theirs():
        cost = pd.DataFrame({"home": pairs.home, "fac": pairs.facility, "walk_m": pairs.walk_m})
        made = Access(demand_df=demand_df, demand_index="home", demand_value="pop",
                      supply_df=supply_df, supply_index="fac", supply_value="cap",
                      cost_df=cost, cost_origin="home", cost_dest="fac", cost_name="walk_m")
        return cost, made, made.two_stage_fca(name="2sfca", max_cost=limit)

    (cost_df, model, result), access_method = best_of(theirs)
    theirs_a = result.iloc[:, 0].reindex(np.arange(pairs.n_homes)).fillna(0.0).to_numpy()
    load = fca.weighted_catchment(demand_df.set_index("home"), cost_df, limit,
                                  cost_source="home", cost_dest="fac", cost_cost="walk_m",
                                  loc_index="home", loc_value="pop")
    load = load.reindex(np.arange(pairs.n_facilities)).fillna(0.0).to_numpy()
    theirs_r = np.divide(supply, load, out=np.zeros_like(supply), where=load > 0)
    print(f"\n1. pysal access {getattr(access, '__version__', '?')} against ours: "
          f"{households:,} home points on a {n_side}x{n_side} street lattice, "
          f"{pairs.n_facilities} {service} facilities, "
          f"{pairs.walk_m.size:,} (facility, home) pairs within {limit:.0f} m")
    print(f"   max |R_j difference| = {np.max(np.abs(theirs_r - ratio)):.3e}   "
          f"max |A_i difference| = {np.max(np.abs(theirs_a - acc)):.3e}")
    print(f"   method alone (same cost table): access {access_method:.3f} s, ours "
          f"{ours_method * 1000:.2f} ms -> {access_method / ours_method:,.0f}x")
    print(f"   end to end: access (our walks as its costs + its method) "
          f"{ours_walks + access_method:.3f} s; ours (walks + method) "
          f"{ours_walks + ours_method:.3f} s -> "
          f"{(ours_walks + access_method) / (ours_walks + ours_method):.1f}x")
    print(f"   (reach index, shared with the coverage step: {times['index_s']:.2f} s)")
    ok = np.allclose(theirs_r, ratio, rtol=0, atol=1e-9) and \
        np.allclose(theirs_a, acc, rtol=0, atol=1e-9)
    print(f"   identical to 1e-9: {'yes' if ok else 'NO'}")
    # the enhanced method's steps (access's step_fn is closed above, as ours)
    from access import weights

    steps = weights.step_fn({limit / 3: 1.0, 2 * limit / 3: 0.68, limit: 0.22})
    stepped, t_theirs = best_of(lambda: model.two_stage_fca(name="e2sfca", max_cost=limit,
                                                            weight_fn=steps))
    (_, acc_e), t_ours = best_of(lambda: K.two_step(pairs, persons, supply, limit_m=limit,
                                                    decay="stepped"))
    theirs_e = stepped["e2sfca_cap"].reindex(np.arange(pairs.n_homes)).fillna(0.0).to_numpy()
    print(f"   stepped 1/0.68/0.22: max |A_i difference| = {np.max(np.abs(theirs_e - acc_e)):.3e}; "
          f"access {t_theirs:.3f} s, ours {t_ours * 1000:.2f} ms -> {t_theirs / t_ours:,.0f}x")
    return homes, fac, index, walk


def full_district(households: int, tmp: Path) -> None:
    base, fac, index, walk, times = district(households, seed=1)
    table = pd.read_csv(DEFAULT_TABLE, dtype=str, keep_default_na=False)
    for key, share in TEST_SHARES.items():
        table.loc[table["key"] == key, "share"] = share
    path = tmp / "bench_demand.csv"
    table.to_csv(path, index=False)
    for method in ("2sfca", "nearest_free"):
        t0 = clock()
        cap = capacity_stage(base.households, fac, index, walk,
                             CapacitySettings(table=str(path), method=method))
        took = clock() - t0
        print(f"\n2. {households:,}-household synthetic district ({len(base.households):,} "
              f"home points), method {method}: capacity for {len(cap.summary)} services in "
              f"{took:.2f} s (reach index built before, {times['index_s']:.2f} s)")
        for service, s in cap.summary.items():
            print(f"   {service:15s} supply {s['supply']:>9,.0f}  reached "
                  f"{s['supply_reached']:>9,.0f}  demand "
                  f"{s['demand'] if s['demand'] is None else round(s['demand'])!s:>8}  "
                  f"shortfall {s['shortfall']!s:>8}")


def lattice_all_services(city, tmp: Path) -> None:
    """Section 3: every capacity service on the lattice city's 100,000 home points."""
    homes, fac, index, walk = city
    table = pd.read_csv(DEFAULT_TABLE, dtype=str, keep_default_na=False)
    for key, share in TEST_SHARES.items():
        table.loc[table["key"] == key, "share"] = share
    path = tmp / "bench_demand_city.csv"
    table.to_csv(path, index=False)
    cap, took = best_of(lambda: capacity_stage(homes, fac, index, walk,
                                               CapacitySettings(table=str(path))), repeat=1)
    print(f"\n3. {len(homes):,} home points on the lattice city: capacity for "
          f"{len(cap.summary)} services in {took:.2f} s (the reach index built apart)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    args = parser.parse_args()
    import tempfile

    city = compare_access(40, 5_000) if args.quick else compare_access(150, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        full_district(3_000 if args.quick else 100_000, Path(tmp))
        lattice_all_services(city, Path(tmp))


if __name__ == "__main__":
    main()
