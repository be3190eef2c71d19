"""Grid edits, their rule checks, and undo/redo (small lattices built in code)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.grids import edits
from geo.grids.rules import community_feasible, polsby_popper
from geo.grids.state import households_with_grids, state_from_layers
from geo.errors import InputError

CRS = "EPSG:32650"
SIZE_M = 50.0


def lattice(ncols: int = 8, nrows: int = 6, households: int = 40, arterial_row: int = 3):
    """Units on an ncols × nrows lattice of 50 m squares, two communities (left/right
    halves), an arterial road between rows ``arterial_row - 1`` and ``arterial_row``, and
    grids of 2 columns × 3 rows (240 households each), numbered west→east, north→south."""
    rows, cells, grids = [], [], {}
    half = ncols // 2
    for r in range(nrows):
        for c in range(ncols):
            community = "C01" if c < half else "C02"
            top = r >= arterial_row
            pair = (c % half) // 2
            n_pairs = half // 2
            seq = pair + 1 if top else n_pairs + pair + 1
            gid = f"{community}{seq:02d}"
            uid = f"U{r}{c}"
            box = shapely.box(c * SIZE_M, r * SIZE_M, (c + 1) * SIZE_M, (r + 1) * SIZE_M)
            rows.append({"unit_id": uid, "households": households, "hh_source": "synthetic",
                         "community_id": community, "grid_id": gid, "name": f"楼{r}{c}",
                         "geometry": box.centroid})
            cells.append({"unit_id": uid, "community_id": community, "face_id": int(top),
                          "households": households, "grid_id": gid, "geometry": box})
            grids.setdefault(gid, []).append(box)
    hh = gpd.GeoDataFrame(rows, crs=CRS)
    cell = gpd.GeoDataFrame(cells, crs=CRS)
    shapes = {g: shapely.union_all(b) for g, b in grids.items()}
    grid = gpd.GeoDataFrame({"grid_id": list(shapes), "community_id": [g[:3] for g in shapes]},
                            geometry=list(shapes.values()), crs=CRS)
    grid["households"] = [households * len(grids[g]) for g in shapes]
    grid["in_band"] = 1
    grid["polsby_popper"] = polsby_popper(grid.geometry.to_numpy()).round(4)
    grid["contiguous"] = 1
    grid["arterial_crossings"] = 0
    grid["n_units"] = [len(grids[g]) for g in shapes]
    grid["split_buildings"] = 0
    grid["reason"] = ""
    arterial = gpd.GeoDataFrame({"road_class": ["arterial"]}, geometry=[
        shapely.LineString([(-10, arterial_row * SIZE_M), (ncols * SIZE_M + 10, arterial_row * SIZE_M)])],
        crs=CRS)
    return hh, grid, cell, arterial


@pytest.fixture
def state():
    hh, grid, cell, _ = lattice()
    return state_from_layers(hh, grid, band=(200, 300), cells=cell)


def figures(entry, gid, when="after"):
    rows = {r["grid_id"]: r for r in getattr(entry, when)}
    return rows.get(gid)


def test_initial_state_keeps_the_saved_table(state):
    assert state.grid_ids() == ["C0101", "C0102", "C0103", "C0104",
                                "C0201", "C0202", "C0203", "C0204"]
    assert (state.grids["households"] == 240).all()
    assert state.unit_grid()["U00"] == "C0103" and state.unit_grid()["U50"] == "C0101"


def test_move_one_unit_reports_before_after_and_keeps_tiling(state):
    edit = edits.move_units(state, ["U31"], "C0102", author="王工")
    new = edit.state
    assert figures(edit.entry, "C0101", "before")["households"] == 240
    assert figures(edit.entry, "C0101")["households"] == 200
    assert figures(edit.entry, "C0102")["households"] == 280
    assert edit.entry.author == "王工" and edit.entry.op == "move"
    assert edit.entry.warnings == ()  # both still in band, contiguous, no crossing
    table = edit.table()
    assert set(table["grid_id"]) == {"C0101", "C0102"}
    assert table.set_index("grid_id").loc["C0102", "households_after"] == 280
    # grids still tile the lattice: no gaps, no overlaps
    union = shapely.union_all(new.grids.geometry.to_numpy())
    assert union.area == pytest.approx(8 * 6 * 50 * 50)
    assert new.grids.area.sum() == pytest.approx(union.area)
    # the input state is untouched
    assert state.unit_grid()["U31"] == "C0101"
    assert households_with_grids(lattice()[0], new).set_index("unit_id").loc["U31", "grid_id"] == "C0102"


def test_move_out_of_band_warns(state):
    edit = edits.move_units(state, ["U31", "U41", "U51"], "C0102")
    keys = [k for k, _ in edit.entry.warnings]
    assert keys.count("edit.warn.band_low") == 1 and keys.count("edit.warn.band_high") == 1
    params = [p for k, p in edit.entry.warnings if k.startswith("edit.warn.band_")]
    assert {p["grid"]: p["households"] for p in params} == {"C0101": 120, "C0102": 360}
    texts = edit.entry.warning_texts("zh")
    assert any("120 户，低于" in x for x in texts) and any("360 户，高于" in x for x in texts)
    assert edit.state.row("C0101")["in_band"] == 0
    assert "120" in edit.state.row("C0101")["reason"]
    assert any("120" in text for text in edit.entry.warning_texts("en"))


def test_move_across_arterial_and_into_other_community_warn(state):
    # U21 lies below the arterial (grid C0103); C0101 is above it
    edit = edits.move_units(state, ["U21"], "C0101")
    keys = {k for k, _ in edit.entry.warnings}
    assert "edit.warn.arterial" in keys
    assert edit.state.row("C0101")["arterial_crossings"] == 1
    # U34 is in community C02
    edit = edits.move_units(state, ["U34"], "C0102")
    keys = {k for k, _ in edit.entry.warnings}
    assert "edit.warn.community" in keys


def test_move_non_adjacent_unit_breaks_contiguity(state):
    edit = edits.move_units(state, ["U50"], "C0102")  # far west unit into the east grid
    keys = {k for k, _ in edit.entry.warnings}
    assert "edit.warn.contiguous" in keys
    assert edit.state.row("C0102")["contiguous"] == 0


def test_units_in_drawn_polygon_to_new_grid(state):
    drawn = shapely.box(0, 240, 60, 310)  # the two top-left units' centres (25,275) and (25,275)?
    units = edits.units_in_polygon(state, drawn)
    assert units == ["U50"]
    wgs = gpd.GeoSeries([shapely.box(0, 140, 110, 310)], crs=CRS).to_crs(4326).iloc[0]
    units = edits.units_in_polygon(state, wgs, crs=4326)
    assert sorted(units) == ["U30", "U31", "U40", "U41", "U50", "U51"]
    edit = edits.move_units(state, units, None)
    assert ("edit.note.new_grid", {"grid": "C0105"}) in edit.entry.warnings
    assert edit.state.row("C0105")["households"] == 240
    assert "C0101" not in edit.state.grid_ids()  # emptied grid disappears
    assert ("edit.warn.removed", {"grid": "C0101"}) in edit.entry.warnings


def test_nearest_unit_from_a_click(state):
    x, y = gpd.GeoSeries([shapely.Point(130, 80)], crs=CRS).to_crs(4326).iloc[0].coords[0]
    assert edits.nearest_unit(state, x, y, crs=4326) == "U12"
    assert edits.nearest_unit(state, 5000, 5000) is None


def test_merge_then_split_restores_two_grids_in_band(state):
    merged = edits.merge_grids(state, "C0101", "C0102")
    assert merged.state.row("C0101")["households"] == 480
    assert "C0102" not in merged.state.grid_ids()
    keys = [k for k, _ in merged.entry.warnings]
    assert "edit.warn.band_high" in keys and "edit.warn.removed" in keys
    split = edits.split_grid(merged.state, "C0101")
    a, b = split.state.row("C0101"), split.state.row("C0103" if False else split.entry.params["new_grid"])
    assert split.entry.params["new_grid"] == "C0105"  # C0102 is retired, never reused
    assert a["households"] == 240 and b["households"] == 240
    assert a["contiguous"] == 1 and b["contiguous"] == 1
    assert a["arterial_crossings"] == 0 and b["arterial_crossings"] == 0
    assert [k for k, _ in split.entry.warnings] == ["edit.note.new_grid"]
    # the north-west part keeps the id
    assert a.geometry.centroid.x < b.geometry.centroid.x


def test_split_respects_band_and_arterial_on_uneven_grid():
    hh, grid, cell, _ = lattice(households=30)  # 6 units × 30 = 180 per grid
    state = state_from_layers(hh, grid, band=(200, 300), cells=cell)
    merged = edits.merge_grids(state, "C0103", "C0101").state  # 360 across the arterial
    split = edits.split_grid(merged, "C0103")
    counts = sorted(split.entry.params["households"])
    assert counts == [180, 180]
    # 360 cannot make two grids of ≥ 200: said so, not refused
    assert ("edit.warn.split_both_low", {"grid": "C0103", "households": 360, "first": 180,
                                         "second": 180, "low": 200}) in split.entry.warnings
    # the cut follows the arterial road: no part crosses it
    for gid in ("C0103", split.entry.params["new_grid"]):
        assert split.state.row(gid)["arterial_crossings"] == 0


def test_split_large_grid_meets_band():
    hh, grid, cell, _ = lattice(households=20)
    state = state_from_layers(hh, grid, band=(100, 150), cells=cell)
    merged = edits.merge_grids(state, "C0101", "C0102").state  # 12 units × 20 = 240
    split = edits.split_grid(merged, "C0101")
    assert sorted(split.entry.params["households"]) == [120, 120]
    assert all(split.state.row(g)["in_band"] for g in ("C0101", split.entry.params["new_grid"]))


def test_lock_unlock_rename(state):
    locked = edits.set_locked(state, ["C0101", "C0201"], True, author="李")
    assert set(edits.locked_units(locked.state).unique()) == {"C0101", "C0201"}
    previous, locked_ids = edits.rerun_inputs(locked.state)
    assert locked_ids == {"C0101", "C0201"} and previous["U50"] == "C0101" and len(previous) == 48
    assert figures(locked.entry, "C0101")["locked"] == 1
    moved = edits.move_units(locked.state, ["U31"], "C0102")
    assert ("edit.warn.locked", {"grid": "C0101"}) in moved.entry.warnings  # said, not refused
    named = edits.rename_grid(moved.state, "C0102", "  东区一网格 ")
    assert named.state.row("C0102")["name"] == "东区一网格"
    unlocked = edits.set_locked(named.state, ["C0101"], False)
    assert not unlocked.state.row("C0101")["locked"]
    assert unlocked.state.row("C0201")["locked"]


def test_refusals_are_errors_with_messages(state):
    with pytest.raises(InputError, match="XYZ"):
        edits.move_units(state, ["XYZ"], "C0101")
    with pytest.raises(InputError):
        edits.move_units(state, [], "C0101")
    with pytest.raises(InputError, match="C0999"):
        edits.move_units(state, ["U00"], "C0999")
    with pytest.raises(InputError):
        edits.move_units(state, ["U50"], "C0101")  # already there: nothing to do
    with pytest.raises(InputError):
        edits.merge_grids(state, "C0101", "C0101")
    single = edits.move_units(state, ["U30", "U31", "U40", "U41", "U51"], "C0102").state
    with pytest.raises(InputError, match="C0101"):
        edits.split_grid(single, "C0101")
    with pytest.raises(InputError):
        edits.rename_grid(state, "C0101", "长" * 101)


def snapshot(state):
    return (tuple(state.grid_of_cell),
            state.grids.drop(columns="geometry").to_dict("records"),
            [shapely.normalize(shapely.simplify(g, 0)).wkb for g in state.grids.geometry])


def test_undo_redo_sequences(state):
    session = edits.start_session(state)
    snaps = [snapshot(state)]
    steps = [
        (edits.move_units, (["U31"], "C0102")),
        (edits.merge_grids, ("C0103", "C0104")),
        (edits.split_grid, ("C0103",)),
        (edits.set_locked, (["C0201"], True)),
        (edits.rename_grid, ("C0202", "西区")),
        (edits.move_units, (["U35", "U45"], None)),
    ]
    for fn, args in steps:
        session, _ = edits.apply_edit(session, fn, *args, author="测试")
        snaps.append(snapshot(session.state))
    assert session.position == len(steps) and not session.can_redo
    for k in range(len(steps), 0, -1):
        session = edits.undo(session)
        assert snapshot(session.state) == snaps[k - 1]
    assert not session.can_undo and edits.undo(session) is session
    for k in range(1, len(steps) + 1):
        session = edits.redo(session)
        assert snapshot(session.state) == snaps[k]
    assert edits.redo(session) is session
    # undo twice, then a new edit drops the undone tail
    session = edits.undo(edits.undo(session))
    session, _ = edits.apply_edit(session, edits.rename_grid, "C0101", "新")
    assert session.position == len(steps) - 1 and len(session.entries) == len(steps) - 1
    assert not session.can_redo


def test_journal_record_round_trip(state):
    session, edit = edits.apply_edit(edits.start_session(state), edits.merge_grids, "C0101", "C0102",
                                     author="张")
    record = edit.entry.to_record()
    import json

    back = edits.entry_from_record(json.loads(json.dumps(record, ensure_ascii=False)))
    assert back.to_record() == record
    rebuilt = edits.EditSession(state=session.state, entries=(back,), position=1)
    assert snapshot(edits.undo(rebuilt).state) == snapshot(state)


def test_cells_rebuilt_from_grids_tile_each_grid():
    hh, grid, _, arterial = lattice()
    state = state_from_layers(hh, grid, band=(200, 300), arterials=arterial)
    assert len(state.cells) == len(hh)
    for gid, shape in zip(grid["grid_id"], grid.geometry):
        cells = state.cells.geometry.to_numpy()[state.cells_of(gid)]
        assert shapely.union_all(cells).area == pytest.approx(shape.area, rel=1e-6)
    # faces come from the arterial road: crossing it is detected
    edit = edits.move_units(state, ["U21"], "C0101")
    assert edit.state.row("C0101")["arterial_crossings"] == 1


def test_units_at_one_spot_share_their_cell_in_strips():
    hh, grid, _, _ = lattice()
    extra = hh.iloc[[0]].copy()
    extra["unit_id"] = "U00b"
    hh2 = pd.concat([hh, extra], ignore_index=True)
    state = state_from_layers(hh2, grid, band=(200, 300))
    a = state.cells.geometry.to_numpy()[state.cells["unit_id"].to_numpy() == "U00"][0]
    b = state.cells.geometry.to_numpy()[state.cells["unit_id"].to_numpy() == "U00b"][0]
    assert a.area == pytest.approx(b.area, rel=1e-6) and a.area + b.area == pytest.approx(2500)


def test_next_grid_id():
    assert edits.next_grid_id("C01", ["C0101", "C0102", "C0201"]) == "C0103"
    assert edits.next_grid_id("C03", ["C0101"]) == "C03-01"
    assert edits.next_grid_id("C01", [f"C01{k:02d}" for k in range(1, 100)]) == "C01100"
    assert edits.next_grid_id("C01", ["C01-01", "C01-07", "C02-09"]) == "C01-08"
    assert edits.next_grid_id("C01", ["C01-001", "C01-002"]) == "C01-003"


def test_feasibility():
    band = (200, 300)
    assert community_feasible(250, band) and community_feasible(400, band)
    assert not community_feasible(150, band) and not community_feasible(350, band)
    assert np.isclose(polsby_popper(np.array([shapely.box(0, 0, 1, 1)]))[0], np.pi / 4)


def test_every_message_key_used_by_the_edit_and_project_modules_exists():
    import re
    from pathlib import Path

    from geo.i18n import table

    root = Path(__file__).resolve().parents[2]
    keys = set()
    grid_modules = tuple(str(p.relative_to(root)) for p in sorted((root / "geo/grids").glob("*.py")))
    project_modules = tuple(str(p.relative_to(root))
                            for p in sorted((root / "analysis/project").glob("*.py")))
    for rel in grid_modules + project_modules + ("analysis/export.py", "analysis/report.py",
                "ui/edit_panel.py", "ui/export_panel.py"):
        path = root / rel
        if path.exists():
            keys |= set(re.findall(r"""["']((?:edit|project|export|report|err|grid|note)\.[a-z_.]+)["']""",
                                   path.read_text(encoding="utf-8")))
    files = (".pdf", ".gpkg", ".png", ".zip", ".csv", ".xlsx")
    missing = sorted(k for k in keys if k not in table() and not k.endswith((".", *files)))
    assert not missing, missing


def test_grid_names_and_authors_have_a_length_limit_with_a_clear_message(state):
    from geo.i18n import t

    assert edits.rename_grid(state, "C0101", "长" * edits.MAX_GRID_NAME).state.row("C0101")["name"] \
        == "长" * edits.MAX_GRID_NAME
    with pytest.raises(InputError) as long_name:
        edits.rename_grid(state, "C0101", "长" * (edits.MAX_GRID_NAME + 1))
    assert long_name.value.key == "err.edit_name_long"
    for lang in ("zh", "en"):
        text = long_name.value.message(lang)
        assert str(edits.MAX_GRID_NAME) in text and str(edits.MAX_GRID_NAME + 1) in text
    assert edits.split_grid(state, "C0101", author="王" * edits.MAX_AUTHOR).entry.author \
        == "王" * edits.MAX_AUTHOR
    with pytest.raises(InputError) as long_author:
        edits.split_grid(state, "C0101", author="王" * (edits.MAX_AUTHOR + 1))
    assert long_author.value.key == "err.author_long"
    assert t("err.author_long", "en", count=41, limit=40).startswith("The author")
    for lang in ("zh", "en"):
        assert str(edits.MAX_AUTHOR) in long_author.value.message(lang)
