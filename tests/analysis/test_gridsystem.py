"""The grid system on a project: codes kept through an edit, workers on A/B posts, the
roster kept out of messages and exports unless asked, the atlas and the signboard table."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

import pandas as pd
import pyogrio
import pytest

from analysis.cli import main
from analysis.gridsystem import set_grid_system, signboard_table
from analysis.project import edit_project, open_project
from geo.grids import edits
from geo.errors import InputError
from geo.grids.workers import adjacency, read_roster

NAMES = ["测试甲", "测试乙", "测试丙", "测试丁"] + [f"职员{k}" for k in range(5, 16)]
PHONES = [f"1380013{k:04d}" for k in range(len(NAMES))]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("gridsystem")
    roster = folder / "名单.csv"
    rows = ["姓名,电话,岗位,网格"] + [f"{n},{p},{'A' if k == 0 else ''},{'C01-03' if k == 0 else ''}"
                                    for k, (n, p) in enumerate(zip(NAMES, PHONES))]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out, summary = folder / "p.gpkg", folder / "s.json"
    result = subprocess.run(
        ["python", "-m", "analysis", "run", "--demo", "synthetic:3000", "--admin-code", "110108009",
         "--roster", str(roster), "--out", str(out), "--summary", str(summary)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return {"folder": folder, "out": out, "summary": summary, "stderr": result.stderr,
            "roster": roster}


def test_codes_and_boundaries_on_the_demo(made):
    grids = pyogrio.read_dataframe(made["out"], layer="grids")
    assert grids["grid_code"].str.fullmatch(r"110108009\d{5}").all()
    assert grids["grid_code"].is_unique
    # the sequence is the number of the stable id
    assert all(c[-2:] == g[-2:] for c, g in zip(grids["grid_code"], grids["grid_id"]))
    assert grids["boundary_zh"].str.match(r"^东至.+，南至.+，西至.+，北至.+。$").all()
    assert grids["boundary_en"].str.startswith("East: ").all()
    meta = open_project(made["out"]).meta["grid_system"]
    assert meta["scheme"] == "CJ/T 349-2010" and meta["county"] == "110108" and meta["street"] == "009"


def test_workers_on_adjacent_ab_posts(made):
    workers = pyogrio.read_dataframe(made["out"], layer="workers")
    grids = pyogrio.read_dataframe(made["out"], layer="grids")
    a = workers[workers["post"] == "A"]
    b = workers[workers["post"] == "B"]
    assert sorted(a["grid_id"]) == sorted(grids["grid_id"])  # one A per grid
    assert a["worker_id"].is_unique and b["worker_id"].is_unique  # backs up one grid at most
    assert a.loc[a["grid_id"] == "C01-03", "name"].tolist() == [NAMES[0]]  # the roster's choice
    own = dict(zip(a["worker_id"], a["grid_id"]))
    pos = {g: k for k, g in enumerate(grids["grid_id"])}
    pairs = {(i, j) for i, j, _ in adjacency(grids.to_crs(grids.estimate_utm_crs()))}
    for wid, grid in zip(b["worker_id"], b["grid_id"]):
        home = own[wid]
        assert home != grid
        assert (min(pos[home], pos[grid]), max(pos[home], pos[grid])) in pairs
    summary = json.loads(made["summary"].read_text(encoding="utf-8"))
    st = summary["staffing"]
    assert st["workers"] == len(NAMES)
    assert st["workers_without_grid"] == len(NAMES) - len(grids)
    assert st["grids_without_worker"] == 0
    assert st["grids_per_worker"] == round(len(grids) / len(NAMES), 2)
    assert st["households_per_worker"] == round(summary["households"] / len(NAMES), 1)
    for value in NAMES + PHONES:
        assert value not in made["stderr"]


def test_roster_kept_out_of_exports_unless_asked(made, tmp_path, capsys):
    plain, full = tmp_path / "plain", tmp_path / "full"
    for fmt in ("csv", "xlsx", "gpkg", "geojson"):
        assert main(["export", str(made["out"]), "--format", fmt, "--out", str(plain)]) == 0
    assert main(["export", str(made["out"]), "--format", "csv", "--out", str(full),
                 "--with-workers"]) == 0
    text = capsys.readouterr().err
    assert not any(v in text for v in NAMES + PHONES)
    plain_bytes = b"".join(p.read_bytes() for p in plain.iterdir())
    for xlsx in plain.glob("*.xlsx"):
        with zipfile.ZipFile(xlsx) as zf:
            plain_bytes += b"".join(zf.read(n) for n in zf.namelist())
    assert not any(v.encode() in plain_bytes for v in NAMES[:4] + PHONES)
    assert not any("workers" in p.name for p in plain.iterdir())
    assert "workers" not in pyogrio.list_layers(next(plain.glob("*.gpkg")))[:, 0]
    sign = next(plain.glob("*_signboard.csv")).read_text(encoding="utf-8-sig")
    assert "boundary_zh" in sign and "东至" in sign
    full_sign = pd.read_csv(next(full.glob("*_signboard.csv")), header=1, dtype=str)
    assert NAMES[0] in set(full_sign["worker_a"]) and PHONES[0] in set(full_sign["phone_a"])
    assert (full / next(p.name for p in full.iterdir() if p.name.endswith("_workers.csv"))).exists()


def test_one_edit_changes_no_other_grid_code(made):
    project = open_project(made["out"])
    grids = project.layers["grids"]
    before = dict(zip(grids["grid_id"], grids["grid_code"]))
    target = grids.sort_values("households").iloc[-1]["grid_id"]
    edited, _ = edit_project(project, edits.split_grid, target)
    after = dict(zip(edited.layers["grids"]["grid_id"], edited.layers["grids"]["grid_code"]))
    assert len(after) == len(before) + 1
    for gid, code in before.items():
        if gid in after:
            assert after[gid] == code
    # the workers follow: still one A per grid, and the new grid is staffed from the spare
    w = edited.layers["workers"]
    assert sorted(w.loc[w["post"] == "A", "grid_id"]) == sorted(after)
    assert edited.summary["staffing"]["workers_without_grid"] == len(NAMES) - len(after)


def test_admin_code_errors_and_roster_errors(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("电话,岗位\n13800000000,A\n", encoding="utf-8")
    code = main(["run", "--demo", "synthetic:300", "--roster", str(bad), "--out",
                 str(tmp_path / "x.gpkg")])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().splitlines()[-1].startswith("error:")
    assert "13800000000" not in err
    code = main(["run", "--demo", "synthetic:300", "--admin-code", "11010", "--out",
                 str(tmp_path / "x.gpkg")])
    assert code == 2 and "error:" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("姓名,电话\n,13800000000\n", encoding="utf-8")
    with pytest.raises(InputError):
        read_roster(empty)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("姓名,手机\n测试甲,13800000000\n".encode("gbk"))
    assert read_roster(gbk)["name"].tolist() == ["测试甲"]
    xlsx = tmp_path / "名单.xlsx"
    pd.DataFrame({"姓名": ["测试乙"], "联系电话": ["013800000001"], "岗位": ["a岗"],
                  "网格编号": ["C01-02"]}).to_excel(xlsx, index=False)
    row = read_roster(xlsx).iloc[0]
    assert (row["name"], row["phone"], row["post"], row["grid"]) == \
        ("测试乙", "013800000001", "A", "C01-02")


def test_signboard_without_roster_and_numbered_posts(made):
    project = set_grid_system(open_project(made["out"]), clear_roster=True)
    assert "workers" not in project.layers and "staffing" not in project.summary
    table = signboard_table(project, with_workers=True)
    assert list(table.columns[:3]) == ["grid_code", "grid_id", "name"]
    assert "worker_a" not in table


def test_atlas_pages_and_fonts(made, tmp_path):
    from analysis.atlas import make_atlas

    project = open_project(made["out"])
    out = tmp_path / "图册.pdf"
    pages = make_atlas(project, out, lang="zh")
    n = len(project.layers["grids"])
    assert pages == 1 + 1 + n  # cover, one index page, one page per grid
    if shutil.which("pdffonts"):
        result = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr.strip()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-f", "3", "-l", "3", str(out), "-"],
                              capture_output=True, text=True).stdout
        first = project.layers["grids"].sort_values(["community_id", "grid_code"]).iloc[0]
        assert first["grid_code"] in text and "东至" in text
        assert NAMES[0] in subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                          text=True).stdout
    en = make_atlas(project, tmp_path / "atlas.pdf", lang="en")
    assert en == pages


def test_codes_and_boundaries_on_the_beijing_sample():
    from tests.conftest import BEIJING_OSM

    if not BEIJING_OSM.exists():
        pytest.skip("the Beijing OSM sample is not on this machine")
    from analysis.pipeline import RunSettings, load_area, run
    from analysis.project import project_from_result

    result = run(load_area(osm=str(BEIJING_OSM)), RunSettings())
    project = set_grid_system(project_from_result(result), admin_code="110108009")
    grids = project.layers["grids"]
    assert grids["grid_code"].str.fullmatch(r"110108009\d{5}").all() and grids["grid_code"].is_unique
    named = grids["boundary_zh"].str.contains("路|街|河|围墙")
    assert named.mean() >= 0.5
    assert grids["boundary_zh"].str.contains("学清路").any()


def test_reassign_and_swap_workers_with_undo_and_redo(made, tmp_path):
    from analysis.project import save
    from analysis.worker_edits import reassign_worker, redo_worker_edit, undo_worker_edit
    from geo.errors import InputError
    from geo.grids.workers import a_posts

    project = open_project(made["out"])
    start = a_posts(project.layers["workers"])
    w1, w2 = sorted(start)[:2]
    g1, g2 = start[w1], start[w2]
    swapped = reassign_worker(project, w1, g2, author="测试")
    posts = a_posts(swapped.layers["workers"])
    assert posts[w1] == g2 and posts[w2] == g1  # a swap
    b = swapped.layers["workers"]
    b = b[b["post"] == "B"]
    assert b["worker_id"].is_unique
    spare = next(w for w in swapped.layers["workers"]["worker_id"] if w not in posts)
    moved = reassign_worker(swapped, spare, g1)  # a spare worker takes a grid
    after = a_posts(moved.layers["workers"])
    assert after[spare] == g1 and w2 not in after
    assert moved.summary["staffing"]["workers_without_grid"] == \
        swapped.summary["staffing"]["workers_without_grid"]
    back = undo_worker_edit(undo_worker_edit(moved))
    assert a_posts(back.layers["workers"]) == start
    again = redo_worker_edit(back)
    assert a_posts(again.layers["workers"]) == posts
    # the journal is saved with the project and holds ids only
    saved = save(again, tmp_path / "w.gpkg")
    reopened = open_project(saved.path)
    journal = reopened.meta["worker_edits"]
    assert journal["position"] == 1 and len(journal["entries"]) == 2
    assert not any(n in json.dumps(journal, ensure_ascii=False) for n in NAMES + PHONES)
    assert a_posts(redo_worker_edit(reopened).layers["workers"]) == after
    with pytest.raises(InputError):
        reassign_worker(project, "W999", g1)


def test_a_rerun_keeps_the_codes_and_the_workers(made, tmp_path):
    out = tmp_path / "again.gpkg"
    result = subprocess.run(
        ["python", "-m", "analysis", "run", "--demo", "synthetic:3000", "--project",
         str(made["out"]), "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    old = pyogrio.read_dataframe(made["out"], layer="grids")
    new = pyogrio.read_dataframe(out, layer="grids")
    assert dict(zip(new["grid_id"], new["grid_code"])) == dict(zip(old["grid_id"], old["grid_code"]))
    before = pyogrio.read_dataframe(made["out"], layer="workers")
    after = pyogrio.read_dataframe(out, layer="workers")
    a = lambda w: dict(zip(w.loc[w["post"] == "A", "name"], w.loc[w["post"] == "A", "grid_id"]))
    assert a(after) == a(before)
    assert not any(v in result.stderr for v in NAMES + PHONES)
