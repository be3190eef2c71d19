"""A register full of personal data through the command line (issue 13 item 2): not one
value reaches the project file, an export, the summary or the messages."""

from __future__ import annotations

import csv
import io

import pytest

from analysis.cli import main
from geo.demos import load_demo

DEMO = "synthetic:2000"
#: The forms the issue found in 地址 and 楼栋 columns.
PERSONAL = ("110101199003071234", "11010119900307123X", "110101900307123", "１３８００１３８０００",
            "138.0013.8000", "139 1234 5678", "010-62781234", "林平之", "黄蓉", "zs@example.com")


def _register(path, area):
    homes = area.households.to_crs(4326).iloc[:60]
    rows = [["小区", "楼栋", "地址", "户数", "备注", "经度", "纬度"]]
    for k, (count, p) in enumerate(zip(homes["households"], homes.geometry)):
        building = [f"{k + 1}号楼（户主：黄蓉）", f"{k + 1}号楼 身份证{PERSONAL[0]}",
                    f"{k + 1}号楼 {PERSONAL[3]}", f"{k + 1}号楼"][k % 4]
        address = [f"学清路{k}号 联系人林平之 {PERSONAL[4]}", f"学清路{k}号 {PERSONAL[6]}",
                   f"学清路{k}号 ID:{PERSONAL[1]}", f"学清路{k}号 {PERSONAL[2]}"][k % 4]
        rows.append(["清华园", building, address, int(count), f"{PERSONAL[5]} {PERSONAL[9]}",
                     f"{p.x:.8f}", f"{p.y:.8f}"])
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode("gbk"))
    return path


def _digits(text: str) -> str:
    return text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "shp", "gpkg"])
def test_no_personal_value_in_any_output(tmp_path, capsys, fmt):
    area = load_demo(DEMO)
    register = _register(tmp_path / "登记表.csv", area)
    project = tmp_path / "p.gpkg"
    summary = tmp_path / "s.json"
    assert main(["run", "--demo", DEMO, "--households", str(register), "--out", str(project),
                 "--summary", str(summary)]) == 0
    assert main(["export", str(project), "--format", fmt, "--out", str(tmp_path / "x")]) == 0
    err = capsys.readouterr().err
    assert "抹去" in err and "blanked" in err  # the privacy note, in both languages
    blobs = [project.read_bytes(), summary.read_bytes(), err.encode("utf-8")]
    for path in (tmp_path / "x").rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes())
            if path.suffix in (".zip", ".xlsx"):
                import zipfile

                with zipfile.ZipFile(path) as zf:
                    blobs += [zf.read(n) for n in zf.namelist()]
    for value in PERSONAL:
        for form in {value, _digits(value)}:
            for encoding in ("utf-8", "gbk"):
                needle = form.encode(encoding, errors="ignore")
                assert not any(needle in blob for blob in blobs), (form, encoding)
    assert b"\xe5\xad\xa6\xe6\xb8\x85\xe8\xb7\xaf" not in project.read_bytes()  # 学清路: no address kept


def test_register_without_header_row_quotes_nothing(tmp_path, capsys):
    rows = "\n".join(f"黄蓉,{PERSONAL[0]},{PERSONAL[4]},116.3,39.9,5" for _ in range(5))
    path = tmp_path / "noheader.csv"
    path.write_text(rows, encoding="utf-8")
    assert main(["run", "--demo", DEMO, "--households", str(path), "--out", str(tmp_path / "p.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "表头" in err and "header" in err
    for value in ("黄蓉", PERSONAL[0], PERSONAL[4]):
        assert value not in err


def test_bad_cell_is_described_not_quoted(tmp_path, capsys):
    area = load_demo(DEMO)
    p = area.households.to_crs(4326).geometry.iloc[0]
    path = tmp_path / "bad.csv"
    path.write_text(f"经度,纬度,户数\n{p.x},{p.y},黄蓉 {PERSONAL[0]}\n", encoding="utf-8")
    assert main(["run", "--demo", DEMO, "--households", str(path), "--out", str(tmp_path / "p.gpkg")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "黄蓉" not in err and PERSONAL[0] not in err


def test_keep_text_keeps_the_address_scrubbed(tmp_path, capsys):
    import pyogrio

    area = load_demo(DEMO)
    register = _register(tmp_path / "登记表.csv", area)
    project = tmp_path / "p.gpkg"
    assert main(["run", "--demo", DEMO, "--households", str(register), "--out", str(project),
                 "--keep-text", "address"]) == 0
    units = pyogrio.read_dataframe(project, layer="households", read_geometry=False)
    kept = " ".join(units["address"].dropna())
    assert "学清路" in kept and not any(v in kept for v in PERSONAL)
    assert main(["run", "--demo", DEMO, "--out", str(project), "--keep-text", "remarks"]) == 2
