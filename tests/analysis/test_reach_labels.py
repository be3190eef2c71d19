"""The reach notes name facilities by ``name (place)`` made only for the facilities a note
names: the same text as labelling every facility first, and no label (no transformation to
latitude and longitude) when no note names one."""

from __future__ import annotations

import numpy as np

from analysis import reach as R
from analysis.reach import report as reach_report
from geo.places import facility_labels
from tests.analysis.reach_fixtures import lattice, points_frame


def _inputs(n_unknown: int):
    net = lattice(6, 6, 100.0)
    homes = points_frame([(50, 10), (250, 310), (420, 180)], households=[10, 20, 30])
    xy = [(110 + 20 * k, 95) for k in range(n_unknown)] + [(300, 205), (5, 400)]
    services = ["bakery"] * n_unknown + ["primary_school", "market"]
    names = [f"Shop {k}" if k % 3 else "" for k in range(len(xy))]
    fac = points_frame(xy, service=services, name=names,
                       facility_id=[f"F{k}" for k in range(len(xy))])
    return net, homes, fac


def test_notes_name_the_flagged_facilities_as_labelling_all_first():
    for n_unknown in (0, 1, 10, 11, 14):
        net, homes, fac = _inputs(n_unknown)
        index = R.prepare_reach(net, homes, fac, services=("primary_school", "market"))
        unknown = fac["service"].to_numpy() == "bakery"
        expected = reach_report.ids_text(facility_labels(fac)[unknown])
        got = index.report["unknown_service_facilities"]["ids"]
        assert got == expected
        assert got.endswith(" …") == (n_unknown > reach_report.MAX_IDS)
        assert ("(" in got) == (n_unknown > 0)  # a place: the latitude and longitude


def test_no_label_is_made_when_no_note_names_a_facility(monkeypatch):
    made = []
    real = reach_report.facility_labels
    monkeypatch.setattr(reach_report, "facility_labels",
                        lambda frame: made.append(len(frame)) or real(frame))
    net, homes, fac = _inputs(0)
    R.prepare_reach(net, homes, fac, services=("primary_school", "market"))
    assert made == []
    net, homes, fac = _inputs(3)
    index = R.prepare_reach(net, homes, fac, services=("primary_school", "market"))
    assert made == [3]
    assert "label" not in index.facilities.columns
    assert np.array_equal(index.facilities["facility_id"].to_numpy(),
                          fac["facility_id"].to_numpy())
