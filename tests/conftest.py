"""Shared fixtures: small study areas built in code (no network access, no stored data)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.network import build_network

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BEIJING_OSM = SHARED_DATA / "beijing_xueqing.osm"


def osm_xml(*, lon0: float = 116.30, lat0: float = 39.90, n: int = 4, step_deg: float = 0.002,
            arterial_row: int | None = 1) -> str:
    """A small OSM XML district: an n×n street lattice (one row primary), two residential
    buildings with storeys, a compound without footprints, and a few tagged facilities."""
    nodes, ways = [], []
    nid = 1

    def node(lon: float, lat: float, tags: dict | None = None) -> int:
        nonlocal nid
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
        nodes.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{tag_xml}</node>')
        nid += 1
        return nid - 1

    grid = [[node(lon0 + i * step_deg, lat0 + j * step_deg) for i in range(n)] for j in range(n)]
    wid = 1000

    def way(refs: list[int], tags: dict) -> None:
        nonlocal wid
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{wid}" version="1">{nd}{tag_xml}</way>')
        wid += 1

    for j in range(n):
        way(grid[j], {"highway": "primary" if j == arterial_row else "residential", "name": f"路{j}"})
    for i in range(n):
        way([grid[j][i] for j in range(n)], {"highway": "residential"})

    def box(lon: float, lat: float, dlon: float, dlat: float) -> list[int]:
        refs = [node(lon, lat), node(lon + dlon, lat), node(lon + dlon, lat + dlat), node(lon, lat + dlat)]
        return refs + [refs[0]]

    way(box(lon0 + 0.0004, lat0 + 0.0004, 0.0004, 0.0002), {"building": "apartments", "building:levels": "10"})
    way(box(lon0 + 0.0010, lat0 + 0.0004, 0.0004, 0.0002), {"building": "residential", "height": "18 m"})
    way(box(lon0 + step_deg * 2 + 0.0002, lat0 + step_deg * 2 + 0.0002, 0.0016, 0.0016),
        {"landuse": "residential", "name": "测试小区"})
    node(lon0 + 0.0005, lat0 + 0.0011, {"amenity": "kindergarten", "name": "阳光幼儿园"})
    node(lon0 + 0.0031, lat0 + 0.0009, {"amenity": "school", "name": "实验小学"})
    node(lon0 + 0.0021, lat0 + 0.0021, {"highway": "bus_stop", "name": "幼儿园站"})
    node(lon0 + 0.0045, lat0 + 0.0045, {"amenity": "school", "name": "某学校"})
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
            + "\n".join(nodes + ways) + "\n</osm>\n")


@pytest.fixture
def osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "district.osm"
    path.write_text(osm_xml(), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_district():
    from geo.synthetic import synthetic_district

    return synthetic_district(5_000, seed=1)


@pytest.fixture(autouse=True)
def private_autosave(monkeypatch, tmp_path_factory):
    """The page's copies of unsaved work (ui/restore.py) go to a folder of the test run,
    never to the tester's home (a later test would be offered to restore them)."""
    monkeypatch.setenv("GRIDCIRCLE_AUTOSAVE_DIR", str(tmp_path_factory.mktemp("autosave")))


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Tests never touch the live internet: any connection off this machine fails."""
    import socket

    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host in ("localhost", "::1") or host.startswith("127.")
                                          or host.startswith("/")):
            raise ConnectionRefusedError(f"tests must not reach {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def lattice_network(n_side: int, seed: int, drop: float):
    """A street network on a jittered ``n_side`` × ``n_side`` lattice (30 m apart), with a
    share ``drop`` of its segments left out (the reach tests' synthetic graph)."""
    rng = np.random.default_rng(seed)
    xs = np.arange(n_side) * 30.0
    gx, gy = np.meshgrid(xs, xs, indexing="ij")
    gx = gx + rng.uniform(-7, 7, gx.shape)
    gy = gy + rng.uniform(-7, 7, gy.shape)
    h = np.stack([gx[:-1].ravel(), gy[:-1].ravel(), gx[1:].ravel(), gy[1:].ravel()], 1)
    v = np.stack([gx[:, :-1].ravel(), gy[:, :-1].ravel(), gx[:, 1:].ravel(), gy[:, 1:].ravel()], 1)
    seg = np.concatenate([h, v])
    seg = seg[rng.random(len(seg)) >= drop]
    lines = shapely.linestrings(np.stack([seg[:, :2], seg[:, 2:]], axis=1))
    return build_network(gpd.GeoDataFrame(geometry=lines, crs="EPSG:32650"))


def count_calls(monkeypatch, calls, module, name: str) -> None:
    """Count in ``calls[name]`` every call of ``module.name`` (still made) for this test."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls[name] += 1
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, wrapper)
