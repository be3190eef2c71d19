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
    return replace(work, meta={**work.meta, "credit": OSM_CREDIT, "area": "学清路街道（测试）",
                               "area_name": "学清路街道（测试）"})  # the planner's name for it


@pytest.fixture(scope="module")
def pdf_zh(project, tmp_path_factory):
    return report.make_report(project, tmp_path_factory.mktemp("r") / "报告.pdf", lang="zh")


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def page_count(pdf: Path) -> int:
    info = run("pdfinfo", str(pdf))
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def expected_pages(project) -> int:
    """Findings, grids, gaps, coverage maps (eight a page), a page per community (at most
    MAX_COMMUNITY_PAGES), settings, coverage table, community table, grid table."""
    comms = len(project.layers["communities"])
    grids = len(project.layers["grids"])
    panels = -(-len(SERVICES) // 8)
    return (3 + panels + min(comms, report.MAX_COMMUNITY_PAGES) + 1 + 1
            + -(-comms // 30) + -(-grids // 30))


@needs_poppler
def test_pdf_pages_render_non_blank(pdf_zh, project, tmp_path):
    n = page_count(pdf_zh)
    assert n == expected_pages(project)
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
def test_pdf_text_has_chinese_headings_and_osm_credit_on_every_map(pdf_zh, project):
    text = run("pdftotext", str(pdf_zh), "-")
    for heading in ("网格划分与15分钟生活圈报告", "主要结论", "网格划分", "各项服务的步行覆盖",
                    "幼儿园", "覆盖缺口", "社区：", "网格一览表", "服务覆盖表", "社区一览表",
                    "学清路街道（测试）", "东区一网格", "不重复"):
        assert heading in text, heading
    assert OSM_CREDIT in text
    comms = min(len(project.layers["communities"]), report.MAX_COMMUNITY_PAGES)
    n_maps = 2 + -(-len(SERVICES) // 8) + comms  # grids, gaps, coverage, communities
    for page in range(2, 2 + n_maps):
        page_text = run("pdftotext", "-f", str(page), "-l", str(page), str(pdf_zh), "-")
        assert OSM_CREDIT in page_text, page


@needs_poppler
def test_fonts_embedded_cleanly_without_poppler_warnings(pdf_zh, tmp_path):
    """The CJK font is a TrueType subset, declared and embedded as TrueType: poppler
    prints no "Mismatch between font type and embedded font file"."""
    fonts = subprocess.run(["pdffonts", str(pdf_zh)], capture_output=True, text=True)
    assert fonts.returncode == 0 and fonts.stderr == "", fonts.stderr
    cjk = [line for line in fonts.stdout.splitlines() if "GridcircleCJK" in line]
    assert cjk and all("CID TrueType" in line and " yes yes yes " in line for line in cjk)
    shown = subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf_zh), str(tmp_path / "p")],
                           capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr


@needs_poppler
def test_english_a3_report(project, tmp_path):
    pdf = report.make_report(project, tmp_path / "r.pdf", lang="en", paper="A3",
                             services=["kindergarten"])
    info = run("pdfinfo", str(pdf))
    assert "(A3)" in info
    text = run("pdftotext", str(pdf), "-")
    for heading in ("Community grids and 15-minute life circles", "Findings",
                    "Walking coverage of each service", "Kindergarten", "Coverage gaps",
                    "Grid table", "Coverage table", "Households (distinct)", OSM_CREDIT):
        assert heading in text, heading
    assert "Elderly" not in text


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
    from geo.grids.reasons import encode_reasons

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


# -- hostile names, bounded size, atomic writes (issue 13 items 6/8, issue 14 item 8) ------
@needs_poppler
def test_names_with_dollars_are_printed_not_read_as_maths(project, tmp_path):

    grids = project.layers["grids"].copy()
    grids.loc[grids.index[0], "name"] = r"$\frac{a}{$ 网格"
    comms = project.layers["communities"].copy()
    comms["name"] = [r"$x^2$社区" if k == 0 else "长" * 5000 for k in range(len(comms))]
    comms["name_key"] = ""  # plain names, not the grid stage's stored name keys
    layers = {**project.layers, "grids": grids, "communities": comms}
    hostile = replace(project, layers=layers,
                      meta={**project.meta, "area": "$\\alpha$ 区" + "长" * 5_000_000,
                            "area_name": "$\\alpha$ 区" + "长" * 5_000_000})
    pdf = report.make_report(hostile, tmp_path / "r.pdf", lang="zh", title="$$ <b>标题</b> \x07")
    text = run("pdftotext", str(pdf), "-")
    assert "$x^2$社区" in text and "$\\alpha$ 区" in text and "<b>标题</b>" in text
    assert "长" * 61 not in text  # names are shortened


def test_report_replaces_the_old_file_atomically_and_leaves_no_temporary_files(project, tmp_path,
                                                                             monkeypatch):
    from matplotlib.backends.backend_pdf import PdfPages

    from geo.errors import ProjectFileError

    out = tmp_path / "r.pdf"
    out.write_bytes(b"%PDF-old")
    calls = {"n": 0}
    original = PdfPages.savefig

    def failing(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return original(self, *args, **kw)

    monkeypatch.setattr(PdfPages, "savefig", failing)
    with pytest.raises(ProjectFileError):
        report.make_report(project, out, services=["market"])
    assert out.read_bytes() == b"%PDF-old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]
    monkeypatch.setattr(PdfPages, "savefig", original)
    report.make_report(project, out, services=["market"])
    assert out.read_bytes()[:5] == b"%PDF-" and [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_report_length_is_bounded_whatever_the_district_size():
    """Pages: findings, grids, gaps, coverage (8 services a page), at most
    MAX_COMMUNITY_PAGES communities, settings, coverage table, and at most MAX_TABLE_PAGES
    for each of the community and grid tables: under 30 for the 13 catalogue services."""
    from geo.catalogue import load_catalogue

    services = len(load_catalogue())
    worst = 3 + -(-services // 8) + report.MAX_COMMUNITY_PAGES + 2 + 2 * report.MAX_TABLE_PAGES
    assert worst < 30


def test_first_page_counts_distinct_households_and_shows_what_the_data_lacks(project):
    from analysis.completeness import completeness_sentence, sentence_text
    from analysis.report import findings
    from analysis.report.context import Context

    names = {"market": {"zh": "菜市场", "en": "Fresh market"}}
    dc = {"thin_services": ["market"], "sentence": completeness_sentence(
        {"area_share_without_data": 0.4, "without_data": 3, "thin_places": ["东区"]},
        {"market": {"thin": True}}, names)}
    project = replace(project, meta={**project.meta,
                                     "summary": {**project.summary, "data_completeness": dc}})
    ctx = Context(project, "en", "A4", None)
    head = findings.headline(ctx)
    total = int(project.layers["households"]["households"].sum())
    assert head["households"] == total and head["outside_any_service"] <= total
    with report.report_style(ctx.charset()):
        fig = findings.page_findings(ctx, title=None, when="2026-01-01")
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "Households (distinct)" in texts and f"{total:,}" in texts
    sentence = sentence_text(project.summary.get("data_completeness") or {}, "en")
    assert sentence and " ".join(sentence.split()[:6]) in texts and "facility list" in texts
    for _, _, households, place, _ in findings.largest_gaps(ctx):
        assert households <= total and place


def test_first_page_gives_age_group_coverage_and_compound_access(project):
    from analysis.report import findings
    from analysis.report.context import Context

    service = next(iter(project.summary["coverage"]))
    extra = {"thresholds_min": project.summary.get("thresholds_min", {}),
             "coverage_groups": {"elderly_60plus": {service: 0.25}},
             "compound_access": {"gated": True, "compounds_gated": 2, "households_affected": 77,
                                 "coverage": {service: {"with_walls": 0.4,
                                                        "without_walls": 0.5}}}}
    project = replace(project, meta={**project.meta, "summary": {**project.summary, **extra}})
    for lang, group, walls in (("en", "People aged 60 and over: 25%", "Gated compounds: 2"),
                               ("zh", "60岁及以上老人：25%", "封闭小区：2 个小区")):
        ctx = Context(project, lang, "A4", None)
        with report.report_style(ctx.charset()):
            fig = findings.page_findings(ctx, title=None, when="2026-01-01")
        texts = " ".join(t.get_text() for t in fig.texts)
        assert group in texts and walls in texts and ctx.service_name(service) in texts
