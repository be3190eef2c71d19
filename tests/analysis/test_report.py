"""The committee report: PDF pages rendered with poppler and checked, text extracted,
PNG maps at 300 dpi."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis import project as pj
from analysis import report
from analysis.pipeline import OSM_CREDIT
from geo.grids import edits
from geo.errors import InputError
from tests.analysis.project_fixtures import SERVICES, project_result

POPPLER = all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdffonts", "pdfinfo"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def project(small_district):
    base = pj.project_from_result(project_result(small_district))
    session, _ = edits.apply_edit(base.session, edits.split_grid, "C0105")
    session, _ = edits.apply_edit(session, edits.rename_grid, "C0101", "东区一网格")
    work = pj.with_session(base, session)
    return replace(work, meta={**work.meta, "credit": OSM_CREDIT, "area": "学清路街道（测试）"})


@pytest.fixture(scope="module")
def pdf_zh(project, tmp_path_factory):
    return report.make_report(project, tmp_path_factory.mktemp("r") / "报告.pdf", lang="zh")


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def page_count(pdf: Path) -> int:
    info = run("pdfinfo", str(pdf))
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@needs_poppler
def test_pdf_pages_render_non_blank(pdf_zh, tmp_path):
    n = page_count(pdf_zh)
    # cover, grids, one map per service, gaps, grid table, coverage table, per-grid coverage
    assert n == 1 + 1 + len(SERVICES) + 1 + 1 + 1 + 1
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf_zh), str(tmp_path / "p")], check=True,
                   capture_output=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == n
    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"), dtype=float)
        assert pixels.shape[1] > pixels.shape[0]  # landscape
        assert (pixels < 200).mean() > 0.003, page.name  # something is drawn on every page
        assert pixels.std() > 5, page.name
    # map pages are busy, not just text
    grid_map = np.asarray(Image.open(pages[1]).convert("L"), dtype=float)
    assert (grid_map < 245).mean() > 0.1


@needs_poppler
def test_pdf_text_has_chinese_headings_and_osm_credit_on_every_map(pdf_zh):
    text = run("pdftotext", str(pdf_zh), "-")
    for heading in ("网格划分与15分钟生活圈报告", "网格划分", "服务覆盖：幼儿园", "覆盖缺口",
                    "网格一览表", "服务覆盖表", "学清路街道（测试）", "东区一网格"):
        assert heading in text, heading
    assert OSM_CREDIT in text
    n_maps = 1 + len(SERVICES) + 1
    for page in range(2, 2 + n_maps):
        page_text = run("pdftotext", "-f", str(page), "-l", str(page), str(pdf_zh), "-")
        assert OSM_CREDIT in page_text, page
    fonts = run("pdffonts", str(pdf_zh))
    noto = [line for line in fonts.splitlines() if "NotoSansCJK" in line]
    assert noto and all(" yes " in line for line in noto)  # embedded


@needs_poppler
def test_english_a3_report(project, tmp_path):
    pdf = report.make_report(project, tmp_path / "r.pdf", lang="en", paper="A3",
                             services=["kindergarten"])
    info = run("pdfinfo", str(pdf))
    assert "(A3)" in info
    text = run("pdftotext", str(pdf), "-")
    for heading in ("Community grids and 15-minute life circles", "Service coverage: Kindergarten",
                    "Coverage gaps", "Grid table", "Coverage table", OSM_CREDIT):
        assert heading in text, heading
    assert "Service coverage: Elderly" not in text


def test_png_maps_at_300_dpi(project, tmp_path):
    paths = report.save_map_pngs(project, tmp_path / "png", services=["market"])
    assert [p.name.split("_map_")[1] for p in paths] == ["grids.png", "coverage_market.png", "gaps.png"]
    with Image.open(paths[0]) as img:
        assert img.info["dpi"] == pytest.approx((300, 300), abs=0.5)
        assert img.size == (round(11.69 * 300), round(8.27 * 300))
        pixels = np.asarray(img.convert("L").resize((300, 212)), dtype=float)
    assert (pixels < 245).mean() > 0.1


def test_tables_follow_edits_and_language(project):
    ctx = report._Context(project, "zh", "A4", None)
    table = report.grid_table(ctx)
    assert len(table) == len(project.session.state.grids)
    assert "东区一网格" in set(table["名称"])
    per_service, per_grid = report.coverage_tables(ctx)
    assert list(per_service["服务"]) == ["幼儿园", "养老/日间照料", "菜市场/生鲜超市"]
    assert len(per_grid) == len(project.session.state.grids)
    en = report._Context(project, "en", "A4", None)
    assert "Households" in report.grid_table(en).columns
    from geo.grids.rules import encode_reasons

    stored = encode_reasons([("grid.reason.above", {"households": 408, "max": 300}),
                             ("grid.reason.pieces", {"parts": 2})])
    assert report._reason_in("en", stored) == \
        "408 households, above the maximum of 300. The grid is made of 2 separate pieces."
    assert report._reason_in("zh", stored) == "户数 408 高于上限 300。网格由 2 块互不相连的部分组成。"


def test_bad_report_requests(project, tmp_path):
    with pytest.raises(InputError):
        report.make_report(project, tmp_path / "r.pdf", lang="fr")
    with pytest.raises(InputError, match="A5"):
        report.make_report(project, tmp_path / "r.pdf", paper="A5")
    with pytest.raises(InputError, match="swimming"):
        report.make_report(project, tmp_path / "r.pdf", services=["swimming"])
    with pytest.raises(InputError):
        report.make_report(project, tmp_path / "r.docx")
    assert not list(tmp_path.iterdir())
