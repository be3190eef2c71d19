"""Data completeness, distinct headline households, facility labels and service colours
(issue 14 items 1, 6, 7 and 8's colours), on fixtures built in code."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analysis import completeness as C
from analysis.colours import SERVICE_COLOURS, service_colours
from geo.catalogue import load_catalogue
from geo.i18n import t
from geo.places import facility_labels, nearest_street_names
from tests.analysis.reach_fixtures import lattice, points_frame

CRS = "EPSG:32650"


def homes(rows):
    """rows: (households, on_network, {service: minutes})."""
    data = {"households": [r[0] for r in rows], "on_network": [r[1] for r in rows]}
    services = sorted({s for r in rows for s in r[2]})
    for s in services:
        data[f"walk_min_{s}"] = [r[2].get(s, np.nan) for r in rows]
    return pd.DataFrame(data)


def test_headline_counts_each_household_once_across_services():
    hh = homes([(100, True, {"a": 20, "b": 20, "c": 20}),   # outside all three: once
                (50, True, {"a": 1, "b": 1, "c": np.nan}),   # unreachable for c
                (30, True, {"a": 1, "b": 1, "c": 1}),
                (40, False, {"a": 99, "b": 99, "c": 99})])   # off the network: not counted
    head = C.headline_households(hh, {"a": 10, "b": 10, "c": 10}, ["a", "b", "c"])
    assert head["households"] == 220 and head["on_network"] == 180
    assert head["outside_any_service"] == 150
    assert head["outside_by_service"] == {"a": 100, "b": 100, "c": 150}
    assert sum(head["outside_by_service"].values()) > head["households"]  # a sum would be impossible


def test_an_impossible_headline_is_a_bug():
    summary = {"households": 100, "headline_households": {"outside_any_service": 100,
                                                          "outside_by_service": {"a": 100}},
               "reach": {"unreachable_households": {"a": 50}, "households_off_network": 0}}
    C.check_headlines(summary)
    summary["headline_households"]["outside_any_service"] = 101
    with pytest.raises(RuntimeError, match="exceed"):
        C.check_headlines(summary)
    summary["headline_households"]["outside_any_service"] = 1
    summary["reach"]["unreachable_households"]["a"] = 1_000
    with pytest.raises(RuntimeError):
        C.check_headlines(summary)


def test_blocks_with_homes_other_uses_and_no_data():
    blocks = gpd.GeoDataFrame({"block_id": range(4)},
                              geometry=[shapely.box(x, 0, x + 100, 100) for x in (0, 200, 400, 600)],
                              crs=CRS)
    hh = points_frame([[50, 50], [250, 50], [260, 60]], households=[10, 20, 0])
    campus = gpd.GeoDataFrame(geometry=[shapely.box(410, 10, 490, 90)], crs=CRS)
    names = gpd.GeoDataFrame({"community_id": ["c1", "c2"], "name": ["东区", "西区"]},
                             geometry=[shapely.box(0, 0, 500, 100), shapely.box(500, 0, 800, 100)],
                             crs=CRS)
    out = C.block_completeness(blocks, hh, other_use=campus, communities=names)
    assert (out["blocks"], out["with_households"], out["other_use"], out["without_data"]) == (4, 2, 1, 1)
    assert out["share_with_households"] == 0.5 and out["area_share_without_data"] == 0.25
    assert out["thin_places"] == ["西区"]


def test_services_with_implausibly_few_facilities_are_thin_and_their_gaps_are_data_gaps():
    catalogue = load_catalogue()
    minimums = C.plausible_minimums()
    assert set(minimums) == {s.key for s in catalogue}  # every service has a minimum ...
    assert all(v > 0 for v in minimums.values())
    fac = pd.DataFrame({"service": ["pharmacy"] * 1 + ["convenience"] * 30})
    density = C.service_density(20_000, fac, catalogue)
    assert density["pharmacy"]["per_10k_households"] == 0.5 and density["pharmacy"]["thin"]
    assert not density["convenience"]["thin"] and density["convenience"]["per_10k_households"] == 15
    gaps = pd.DataFrame({"service": ["pharmacy", "convenience"], "households": [10, 20]})
    labelled = C.label_gaps(gaps, [k for k, v in density.items() if v["thin"]])
    assert labelled["cause"].tolist() == ["data", "service"]


def test_services_csv_justifies_every_minimum():
    import csv

    from geo.catalogue import DEFAULT_CATALOGUE

    with open(DEFAULT_CATALOGUE, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert all(float(r["min_per_10k_hh"]) > 0 and len(r["min_source"]) > 40 for r in rows)


@pytest.mark.parametrize("blocks_share,thin,key", [
    (0.0, [], "completeness.ok"), (0.4, [], "completeness.thin_blocks"),
    (0.0, ["pharmacy"], "completeness.thin_services"), (0.5, ["pharmacy"], "completeness.thin_both")])
def test_one_sentence_says_where_the_data_is_thin_and_what_to_upload(blocks_share, thin, key):
    blocks = {"area_share_without_data": blocks_share, "share_with_households": 0.5,
              "without_data": 7, "thin_places": ["东区"] if blocks_share else []}
    services = {s: {"thin": s in thin} for s in ("pharmacy", "market")}
    names = {"pharmacy": {"zh": "药店", "en": "Pharmacy"}, "market": {"zh": "菜市场", "en": "Market"}}
    sentence = C.completeness_sentence(blocks, services, names)
    assert sentence["key"] == key
    zh = C.sentence_text({"sentence": sentence}, "zh")
    en = C.sentence_text({"sentence": sentence}, "en")
    assert zh and en and "{" not in zh + en
    if thin:
        assert "药店" in zh and "Pharmacy" in en and "facility list" in en
    if blocks_share > 0.25:
        assert "东区" in zh and "household register" in en


def test_run_summary_has_completeness_distinct_headlines_and_the_sentence_in_notes(small_district):
    from analysis.pipeline import run

    result = run(small_district)
    s = result.summary
    total = s["households"]
    dc = s["data_completeness"]
    assert 0 <= dc["blocks"]["share_with_households"] <= 1
    assert set(dc["services"]) == set(s["thresholds_min"])
    head = s["headline_households"]
    assert head["distinct"] and head["outside_any_service"] <= total
    assert all(v <= total for v in head["outside_by_service"].values())
    assert max(head["outside_by_service"].values()) <= head["outside_any_service"]
    from geo.i18n import note_text

    for lang in ("zh", "en"):  # a note (key and parameters), shown in either language
        assert note_text(s["notes"][0], lang) == C.sentence_text(dc, lang) != ""
    assert s["notes"][0]["key"] == dc["sentence"]["key"]
    assert "cause" in result.layers["gaps"].columns


def test_facilities_named_by_name_and_street_never_by_id():
    roads = gpd.GeoDataFrame({"name": ["学清路", None]},
                             geometry=[shapely.LineString([(0, 0), (1000, 0)]),
                                       shapely.LineString([(0, 500), (1000, 500)])], crs=CRS)
    fac = points_frame([[100, 20], [100, 480], [100, 2000]], facility_id=["F00067", "F1", "F2"],
                       name=["华联超市", "", None])
    fac["place"] = nearest_street_names(fac, roads)
    assert fac["place"].tolist() == ["学清路", "", ""]
    labels = facility_labels(fac)
    assert labels[0] == "华联超市 (学清路)"
    assert all("F0" not in label and "F1" not in label for label in labels)
    assert labels[1].startswith("(") and "°" not in labels[1] and "," in labels[1]  # lat, lon


def test_reach_notes_name_facilities():
    from analysis import reach as R

    net = lattice(4, 4, 100.0)
    hh = points_frame([[150, 100]], households=[5])
    fac = points_frame([[100, 100], [5000, 5000]], service=["health", "health"],
                       facility_id=["F00001", "F00067"], name=["社区医院", "远方诊所"],
                       place=["学清路", ""])
    index = R.prepare_reach(net, hh, fac)
    notes = " ".join(R.reach_notes(index.report, "zh"))
    assert "远方诊所" in notes and "F00067" not in notes


def test_service_colours_are_distinct_and_shared_with_the_page():
    def lab(h):
        rgb = np.array([int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
        m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        xyz = m @ rgb / np.array([0.95047, 1.0, 1.08883])
        f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    keys = [s.key for s in load_catalogue()]
    assert set(keys) <= set(SERVICE_COLOURS)
    worst = min(np.linalg.norm(lab(SERVICE_COLOURS[a]) - lab(SERVICE_COLOURS[b]))
                for a, b in itertools.combinations(keys, 2))
    assert worst >= 25, worst
    extra = service_colours(keys + ["swimming", "library"])
    assert len(set(extra.values())) == len(keys) + 2
    from ui import mapview

    assert mapview.SERVICE_COLOURS is SERVICE_COLOURS
    assert t("completeness.ok", "en", with_share="50%")


def test_the_page_notes_carry_the_completeness_sentence():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[2] / "app.py"
    at = AppTest.from_file(str(app), default_timeout=600)
    at.query_params["demo"] = "synthetic:2000"
    at.run()
    assert not at.exception
    from tests.ui import open_tab

    open_tab(at, "notes")  # the notes tab beside the map (only the open tab is drawn)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("数据") for c in captions), captions  # 数据完整性 / 数据可能不全
    at.sidebar.toggle(key="lang_en").set_value(True).run()
    assert any(c.value.startswith(("Data completeness", "The data may be incomplete"))
               for c in at.caption)
