"""The online reader, exercised against local files (never the live internet)."""

import osmnx as ox
import pytest
import requests

from geo.errors import InputError
from geo.osm import download_osm, study_area_from_osm


def test_place_download_goes_through_osmnx_with_disk_cache(monkeypatch, osm_file, tmp_path):
    calls = {}

    def fake_graph(place, **kwargs):
        calls["graph"] = (place, kwargs, ox.settings.use_cache, ox.settings.cache_folder,
                          "foot" in ox.settings.useful_tags_way)
        return ox.graph_from_xml(osm_file, bidirectional=True, retain_all=True)

    def fake_features(place, tags):
        calls["features"] = tags
        return ox.features_from_xml(osm_file, tags=tags)

    monkeypatch.setattr(ox, "graph_from_place", fake_graph)
    monkeypatch.setattr(ox, "features_from_place", fake_features)
    layers = download_osm("海淀区学清路", cache_folder=tmp_path / "cache")
    place, kwargs, use_cache, folder, foot_tag = calls["graph"]
    assert place == "海淀区学清路" and kwargs["network_type"] == "all"
    assert use_cache and folder == str(tmp_path / "cache") and foot_tag
    assert "amenity" in calls["features"] and "building" in calls["features"]
    area = study_area_from_osm(layers)
    assert area.network.n_nodes == 12 and len(area.facilities) == 3


def test_bbox_download(monkeypatch, osm_file):
    seen = {}
    monkeypatch.setattr(ox, "graph_from_bbox", lambda bbox, **kw: seen.setdefault("bbox", bbox) and
                        ox.graph_from_xml(osm_file, bidirectional=True, retain_all=True))
    monkeypatch.setattr(ox, "features_from_bbox", lambda bbox, tags: ox.features_from_xml(osm_file, tags=tags))
    layers = download_osm(bbox=(116.30, 39.90, 116.31, 39.91))
    assert seen["bbox"] == (116.30, 39.90, 116.31, 39.91)
    assert len(layers.streets) > 0


def test_offline_is_a_clear_input_error(monkeypatch):
    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("no route to host")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    with pytest.raises(InputError, match="Could not download"):
        download_osm("北京市海淀区")


def test_the_test_suite_itself_cannot_reach_the_internet():
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("https://overpass-api.de/api/status", timeout=5)
