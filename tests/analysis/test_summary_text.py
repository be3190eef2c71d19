"""Sentences from the summary shared by the page and the report: coverage for age groups
and what gated compounds change."""

from __future__ import annotations

from analysis.summary_text import compound_access_line, group_coverage_lines

NAMES = {"elderly_care": "Elderly care", "kindergarten": "Kindergarten", "health": "Clinic"}


def _walls(coverage: dict) -> dict:
    return {"compound_access": {"gated": True, "compounds_gated": 3, "households_affected": 1234,
                                "coverage": coverage}}


def test_group_lines_per_group_and_service_in_both_languages():
    summary = {"thresholds_min": {"elderly_care": 5.0, "kindergarten": 5.0},
               "coverage_groups": {"elderly_60plus": {"elderly_care": 0.724},
                                   "children_0_6": {"kindergarten": 0.5}}}
    en = group_coverage_lines(summary, NAMES.get, "en")
    assert en == ["People aged 60 and over: 72% live within a 5-minute walk of Elderly care",
                  "Children aged 0–6: 50% live within a 5-minute walk of Kindergarten"]
    zh = group_coverage_lines(summary, {"elderly_care": "养老服务"}.get, "zh")
    assert zh[0].startswith("60岁及以上老人：72%") and "养老服务" in zh[0]
    assert group_coverage_lines({}, NAMES.get, "en") == []


def test_compound_access_line_names_the_service_the_walls_change_most():
    summary = _walls({"health": {"with_walls": 0.80, "without_walls": 0.82},
                      "kindergarten": {"with_walls": 0.60, "without_walls": 0.70},
                      "elderly_care": {"with_walls": 0.5, "without_walls": 0.45}})
    en = compound_access_line(summary, NAMES.get, "en")
    assert en.startswith("Gated compounds: 3 compounds are walled, 1,234 households")
    assert "Kindergarten" in en and "70.0% without walls" in en and "60.0% with them" in en
    zh = compound_access_line(summary, NAMES.get, "zh")
    assert "3 个小区" in zh and "Kindergarten" in zh and "70.0%" in zh
    same = _walls({"health": {"with_walls": 0.8, "without_walls": 0.8}})
    assert "no service's coverage changes" in compound_access_line(same, NAMES.get, "en")
    assert compound_access_line({"compound_access": {"gated": False}}, NAMES.get, "en") is None
    assert compound_access_line({}, NAMES.get, "zh") is None


def test_a_saved_project_with_bad_group_shares_is_refused():
    import pytest

    from analysis.project import check_project_meta
    from geo.errors import ProjectFileError

    good = {"crs": "EPSG:32650", "summary": {"coverage_groups": {"elderly_60plus": {"elderly_care": 0.5}}}}
    check_project_meta(good, "p.gridcircle")
    for bad in ({"elderly_60plus": {"elderly_care": "0.5"}}, {"elderly_60plus": {"x": 2.0}},
                {"elderly_60plus": 0.5}, [0.5]):
        with pytest.raises(ProjectFileError):
            check_project_meta({**good, "summary": {"coverage_groups": bad}}, "p.gridcircle")


def test_a_projects_gate_edits_are_read_back_or_default():
    from analysis.project import wall_settings_of
    from geo.walls import WallSettings

    edits = WallSettings(gated=True, open_compounds=("way/7",), added_gates=((116.3, 39.9),))
    meta = {"settings": {"walls": edits.as_dict()}}
    assert wall_settings_of(meta).as_dict() == edits.as_dict()
    assert wall_settings_of({"settings": {"walls": {"gated": False}}}).gated is False
    for bad in ({}, {"settings": {"walls": "x"}}, {"settings": {"walls": {"added_gates": [[1]]}}},
                {"settings": {"walls": {"inner_detour": 99}}}, None):
        assert wall_settings_of(bad).as_dict() == WallSettings().as_dict()
