"""Also tightened (issue 26 item 14): a feature with too many vertices is refused with a
clear limit (any format, GeoJSON while it is read); concurrent writers of one set of map
PNGs never mix their files; ``--persons-per-household`` outside 1-10 is refused before the
run."""

from __future__ import annotations

import json
import math
import multiprocessing
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.outputs import staged_folder
from geo.inputs import read_communities
from geo.errors import InputError
from geo.settings import InputLimits

QUICK = settings(max_examples=20, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _ring(n: int, lon: float = 116.3, lat: float = 39.9, r: float = 0.004) -> list[list[float]]:
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    ring = np.c_[lon + r * np.cos(t), lat + r * np.sin(t)].round(7).tolist()
    return ring + [ring[0]]


def _geojson(path: Path, ring: list) -> Path:
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"名称": "一社区"},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@QUICK
@given(n=st.integers(3, 400), limit=st.integers(4, 300), gpkg=st.booleans())
def test_features_beyond_the_vertex_limit_are_refused(tmp_path_factory, n, limit, gpkg):
    folder = tmp_path_factory.mktemp("v")
    ring = _ring(n)
    if gpkg:
        path = folder / "c.gpkg"
        gpd.GeoDataFrame({"名称": ["一社区"]}, geometry=[shapely.Polygon(ring)],
                         crs=4326).to_file(path, driver="GPKG")
    else:
        path = _geojson(folder / "c.geojson", ring)
    limits = InputLimits(max_feature_vertices=limit)
    if n + 1 <= limit:
        assert len(read_communities(path, limits=limits).frame) == 1
    else:
        with pytest.raises(InputError) as err:
            read_communities(path, limits=limits)
        assert err.value.key == "err.feature_too_many_vertices"
        assert f"{limit:,}" in err.value.bilingual()


def test_a_million_vertex_community_is_refused_quickly(tmp_path):
    """The example: a 1e6-vertex community polygon took 49 s and 793 MB."""
    path = _geojson(tmp_path / "c.geojson", _ring(1_000_000))
    start = time.perf_counter()
    with pytest.raises(InputError) as err:
        read_communities(path)
    assert err.value.key == "err.feature_too_many_vertices"
    assert time.perf_counter() - start < 30


def _writer(folder: str, tag: str, names: list[str], pause: float) -> None:
    with staged_folder(folder, lock=True) as stage:
        for name in names:
            (stage / name).write_text(tag)
            time.sleep(pause)


@settings(max_examples=4, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(count=st.integers(2, 6), pause=st.sampled_from([0.0, 0.01, 0.03]))
def test_concurrent_sets_of_maps_never_mix(tmp_path_factory, count, pause):
    folder = tmp_path_factory.mktemp("png")
    names = [f"p_map_{k}.png" for k in range(count)]
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(folder), tag, names, pause))
               for tag in ("zh", "en")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    tags = {(folder / name).read_text() for name in names}
    assert len(tags) == 1, tags
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)  # nothing else left


def test_report_pngs_are_staged():
    """``save_map_pngs`` writes through a locked staging folder (the example: two reports
    in two languages at once left maps of both)."""
    import inspect

    from analysis.report import save_map_pngs

    source = inspect.getsource(save_map_pngs)
    assert "staged_folder(" in source and "lock=" in source


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.floats(max_value=0.999), st.floats(min_value=10.001),
                       st.sampled_from([0.0, -1.0, float("nan"), float("inf")])))
def test_persons_per_household_outside_the_range_is_refused(tmp_path_factory, capsys, value):
    out = tmp_path_factory.mktemp("pph") / "p.gpkg"
    code = main(["run", "--demo", "synthetic:2000", f"--persons-per-household={value!r}",
                 "--out", str(out)])
    assert code == 2
    assert "persons_per_household" in capsys.readouterr().err
    assert not out.exists()


def test_persons_per_household_zero_is_refused_before_the_run(tmp_path, capsys):
    """The example: ``--persons-per-household 0`` was accepted."""
    code = main(["run", "--demo", "synthetic:2000", "--persons-per-household", "0",
                 "--out", str(tmp_path / "p.gpkg")])
    err = capsys.readouterr().err
    assert code == 2 and "persons_per_household" in err
    assert "[" not in err.split("error:")[0]  # refused before any step ran
    assert not (tmp_path / "p.gpkg").exists()
