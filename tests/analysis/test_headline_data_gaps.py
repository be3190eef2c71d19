"""Issue 22 item 7: the headline leaves out services whose facilities are implausibly few
(a mapping gap, ``cause`` = ``data``), says which, and keeps the all-services figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import completeness as C


def _homes():
    # 100 households outside "care" only (no facility mapped), 50 outside "shop" too
    return pd.DataFrame({"households": [100, 50, 30], "on_network": [True, True, True],
                         "walk_min_shop": [3.0, 20.0, 3.0],
                         "walk_min_care": [np.nan, np.nan, np.nan]})


def test_headline_excludes_data_gap_services_and_names_them():
    head = C.headline_households(_homes(), {"shop": 10, "care": 15}, ["shop", "care"],
                                 exclude=["care"])
    assert head["outside_any_service_all"] == 180  # every household lacks care
    assert head["outside_any_service"] == 50  # the figure that means something
    assert head["excluded_services"] == ["care"]
    assert head["outside_by_service"] == {"shop": 50, "care": 180}


def test_headline_without_data_gaps_is_the_all_services_figure():
    head = C.headline_households(_homes(), {"shop": 10, "care": 15}, ["shop", "care"])
    assert head["excluded_services"] == []
    assert head["outside_any_service"] == head["outside_any_service_all"] == 180


def test_a_headline_above_its_all_services_figure_is_a_bug():
    summary = {"households": 100, "headline_households": {
        "outside_any_service": 60, "outside_any_service_all": 50, "outside_by_service": {}}}
    with pytest.raises(RuntimeError):
        C.check_headlines(summary)


def test_run_summary_excludes_the_thin_services(small_district):
    from analysis.pipeline import run

    s = run(small_district).summary
    head = s["headline_households"]
    thin = s["data_completeness"]["thin_services"]
    assert head["excluded_services"] == [k for k in s["thresholds_min"] if k in thin]
    assert head["outside_any_service"] <= head["outside_any_service_all"] <= s["households"]
