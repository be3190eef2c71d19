"""The one runner: it makes any graph of :class:`Stage` in dependency order by each stage's
own function, side by side or not with the same values; the walking settings are merged
once per run; the re-count after edits is a graph of the same kind."""

from __future__ import annotations

import threading

import pytest

from analysis import stages as S
from analysis.run_types import RunSettings
from analysis.stage_cache import StageCache
from analysis.stages import STAGES, Inputs, Runner, Stage, run_stages
from geo.synthetic import synthetic_district


def _toy(calls: list) -> dict[str, Stage]:
    """a → b, a → c (one node per part), b + every c → d."""
    lock = threading.Lock()

    def made(name, value):
        with lock:
            calls.append(name)
        return value

    return {s.name: s for s in (
        Stage("a", (), lambda r, _: r.settings, run=lambda r, _: made("a", 1)),
        Stage("b", ("a",), lambda r, _: (), run=lambda r, _, a: made("b", a + 10)),
        Stage("c", ("a",), lambda r, part: part, run=lambda r, part, a: made("c", a * part)),
        Stage("d", ("b", "c"), lambda r, part: part, each=("c",), cached=False,
              run=lambda r, part, b, cs: made("d", (b, cs))),
    )}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_graph_is_made_in_dependency_order_by_each_stage_function(workers):
    calls: list = []
    runner = Runner(settings="s", graph=_toy(calls))
    assert runner.plan("d", (2, 3)) == [("a", None), ("b", None), ("c", 2), ("c", 3), ("d", (2, 3))]
    made = runner.run("d", (2, 3), workers=workers)
    assert made[("d", (2, 3))] == (11, (2, 3))
    assert calls[0] == "a" and calls[-1] == "d" and sorted(calls) == ["a", "b", "c", "c", "d"]
    # cached stages are found again; the uncached one is made again
    assert runner.run("d", (2, 3), workers=workers)[("d", (2, 3))] == (11, (2, 3))
    assert sorted(calls) == ["a", "b", "c", "c", "d", "d"]
    assert set(runner.timings_s) == {"a", "b", "c", "d"}


def test_a_handed_in_stage_is_used_and_its_function_never_called():
    calls: list = []
    runner = Runner(settings="s", graph=_toy(calls), given={"a": 5})
    assert runner.run("d", (1,))[("d", (1,))] == (15, (5,))
    assert "a" not in calls


def test_every_stage_of_the_graph_carries_its_function():
    assert all(callable(stage.run) for stage in STAGES.values())
    assert all(set(stage.needs) <= set(STAGES) for stage in STAGES.values())
    assert all(stage.run is None or callable(stage.run) for stage in S.EDIT_STAGES.values())


def test_side_by_side_makes_the_same_result_and_says_the_same_steps(monkeypatch):
    area = synthetic_district(1500, seed=4)
    merged = []
    real = S.walk_settings
    monkeypatch.setattr(S, "walk_settings", lambda *a: merged.append(1) or real(*a))
    said: dict[int, list] = {1: [], 2: []}
    runs = {w: run_stages(Inputs(area=area, key="a"), RunSettings(), cache=StageCache(),
                          progress=said[w].append, workers=w) for w in (1, 2)}
    assert merged == [1, 1]  # the walking settings: merged once per run, read by every stage
    assert said[1] == ["step.households", "step.communities", "step.grids", "step.reach",
                       "step.reach", "step.service_areas"]
    assert sorted(said[2]) == sorted(said[1])
    one, two = (runs[w].result.summary for w in (1, 2))
    assert {k: v for k, v in one.items() if k != "timings_s"} == \
        {k: v for k, v in two.items() if k != "timings_s"}
    assert list(one["timings_s"]) == ["households", "communities", "grids", "reach",
                                      "service_areas", "reach_and_areas_wall", "coverage",
                                      "capacity"]
    assert list(two["timings_s"]) == list(one["timings_s"])


def test_the_recount_after_edits_runs_through_the_edit_graph(monkeypatch):
    from analysis.project.state import project_from_result
    from tests.analysis.project_fixtures import project_result

    result = project_result(synthetic_district(1500, seed=4))
    made = []
    for name in ("regrid", "recounted", "edited"):
        real = getattr(S, name)
        monkeypatch.setattr(S, name, lambda *a, _real=real, _name=name: made.append(_name)
                            or _real(*a))
    project = project_from_result(result)  # just made: the layers follow the state
    assert made == ["regrid", "edited"]
    made.clear()
    again = S.recount_edits(project, project.session)
    assert made == ["regrid", "recounted", "edited"]
    assert again.summary["grids"] == project.summary["grids"]
    assert again.layers["coverage"].equals(project.layers["coverage"])
