"""A held project following a walking-settings change (analysis.project.follow): measured
again in place, its grid parts neither rebuilt nor re-applied, with the numbers of the
project made again from the run (what the page did before, and what the command line
gives for the same grids)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import analysis.edit_stage as edit_stage
import analysis.gridsystem as gridsystem
import analysis.project.state as project_state
from tests.conftest import count_calls
from analysis.gridsystem import set_grid_system
from analysis.pipeline import RunSettings, load_area
from analysis.project import edit_project, project_from_result, with_session
from analysis.project.follow import carried, measured_again, same_grids
from analysis.stages import Inputs, StageCache, run_stages
from geo.grids import edits


@pytest.fixture(scope="module")
def runs():
    area = load_area(demo="synthetic:3000")
    facilities = area.facilities.copy()  # places known: capacity per grid follows the walks
    facilities["capacity"] = np.where(facilities["service"].isin(
        ["kindergarten", "primary_school", "elderly_care"]), 150.0, np.nan)
    inputs = Inputs(area=area, facilities=facilities, key=("demo", "synthetic:3000", "places"))
    cache = StageCache(entries=64)
    settings = RunSettings()
    slower = dataclasses.replace(settings, walk=settings.walk.with_speed(0.3))
    services = ("health", "market")
    first = run_stages(inputs, settings, services=services, cache=cache)
    second = run_stages(inputs, slower, services=services, cache=cache)
    band = dataclasses.replace(settings, grids=dataclasses.replace(settings.grids, min_households=120,
                                                                max_households=160))
    other = run_stages(inputs, band, services=services, cache=cache)
    return first, second, other


def _held(first, *, edited: bool):
    project = set_grid_system(project_from_result(first.result, area_source={
        "kind": "demo", "name": "synthetic:3000", "id": "synthetic:3000"}),
        admin_code="110108009")
    project = dataclasses.replace(project, meta={**project.meta, "area_name": "学清"})
    if edited:
        grid = str(project.layers["grids"].sort_values("households")["grid_id"].iloc[-1])
        project, _ = edit_project(project, edits.split_grid, grid, author="")
    return project


def _same(a, b) -> None:
    assert set(a.layers) == set(b.layers)
    for name in a.layers:
        left, right = a.layers[name], b.layers[name]
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(left.reset_index(drop=True),
                                          right.reset_index(drop=True), obj=name)
    plain = lambda meta: json.loads(json.dumps(  # noqa: E731 - numbers as the file stores them
        {k: v for k, v in meta.items() if k != "area_name"}, default=str))
    assert plain(a.meta) == plain(b.meta)
    assert np.array_equal(a.session.state.grid_of_cell, b.session.state.grid_of_cell)
    assert a.session.entries == b.session.entries


@pytest.mark.parametrize("edited", [False, True])
def test_a_speed_change_keeps_the_grid_parts_and_counts_what_a_rebuild_counts(
        runs, edited, monkeypatch):
    first, second, _ = runs
    held = _held(first, edited=edited)
    assert same_grids(first.keys, second.keys)
    # what the command line gives for the run, with the planner's edits applied to it and
    # bound to the same codes (the page's former way: the project made again from the run)
    fresh = project_from_result(second.result, area_source=held.meta["area_source"])
    rebuilt = carried(with_session(fresh, held.session) if edited else fresh, held)

    calls = Counter()
    count_calls(monkeypatch, calls, gridsystem, "apply")
    # the edit stage's name for gridsystem.apply
    count_calls(monkeypatch, calls, edit_stage, "grid_system")
    count_calls(monkeypatch, calls, project_state, "session_from_layers")
    count_calls(monkeypatch, calls, project_state.grid_state, "state_from_layers")
    followed = measured_again(held, second.result, second.keys, before=first.keys)
    assert sum(calls.values()) == 0, calls  # no grid part rebuilt or applied again
    assert followed.session is held.session
    assert followed.layers["cells"] is held.layers["cells"]
    assert followed.meta["area_name"] == "学清"  # what the planner typed stays
    _same(followed, rebuilt)
    minutes = followed.layers["households"]["walk_min_health"]
    assert (minutes > held.layers["households"]["walk_min_health"]).any()  # slower: longer
    column = "shortfall_primary_school"  # places reached at a slow pace, per grid too
    assert followed.layers["grids"][column].sum() > held.layers["grids"][column].sum()


def test_another_band_is_not_a_walking_change_and_the_project_is_made_again(runs, monkeypatch):
    first, _, other = runs
    assert not same_grids(first.keys, other.keys)
    assert not same_grids(None, first.keys)  # not measured on this page yet
    held = _held(first, edited=False)
    made = Counter()
    original = project_state.session_from_layers

    def counting(*args, **kwargs):
        made["session_from_layers"] += 1
        return original(*args, **kwargs)
    monkeypatch.setattr(project_state, "session_from_layers", counting)
    measured_again(held, other.result, other.keys, before=first.keys)
    assert made["session_from_layers"] == 1


def test_gaps_keep_their_cause_after_an_edit(runs):
    first, _, _ = runs
    held = _held(first, edited=False)
    edited = _held(first, edited=True)
    before, after = held.layers["gaps"], edited.layers["gaps"]
    assert "cause" in before and "cause" in after  # the report and exports read it
    cause = dict(zip(before["service"], before["cause"]))
    assert all(cause.get(s, c) == c for s, c in zip(after["service"], after["cause"]))
