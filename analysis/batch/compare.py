"""The batch's comparison: one row per district, ranked per indicator, as XLSX and PDF.

Figures come from each district's ``summary.json`` (the same distinct-household counts as
the single report: ``headline_households``) and its project's ``gaps`` layer; a failed
district keeps its row with its status and one-line error. The workbook follows the
exports (:mod:`analysis.export`): a heading row (中文 / English), then the field names
programs read (``header=1`` in pandas), text cells neutralised so none starts a formula.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.batch.columns import label, read_gaps, service_names
from analysis.batch.task import SUMMARY, error_line
from analysis.export import ILLEGAL_XLSX, neutral_frame
from analysis.outputs import atomic_file
from geo.catalogue import load_catalogue
from geo.i18n import t

XLSX = "comparison.xlsx"
PDF = "comparison.pdf"
#: Indicators ranked across districts: field -> True when larger is better.
RANKED = {"mean_coverage": True, "share_in_band": True, "share_outside_any": False,
          "blocks_with_data": True}


def read_summary(folder: Path) -> dict | None:
    try:
        return json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def services_of(summaries: list[dict]) -> list[str]:
    """Services with coverage in any district, in the catalogue's order."""
    seen = {s for summary in summaries for s in (summary.get("coverage") or {})}
    order = [s.key for s in load_catalogue()]
    return [s for s in order if s in seen] + sorted(seen - set(order))


def district_row(outcome: dict, folder: Path, services: list[str], summary: dict | None) -> dict:
    row = {"district": outcome["name"], "status": outcome["status"],
           "error": outcome.get("error") or ""}
    if summary is None:
        return row
    head = summary.get("headline_households") or {}
    households = int(head.get("households", summary.get("households", 0)) or 0)
    grids = int(summary.get("grids") or 0)
    in_band = int(summary.get("grids_in_band") or 0)
    row.update(households=households, communities=int(summary.get("communities") or 0),
               grids=grids, grids_in_band=in_band,
               share_in_band=round(in_band / grids, 4) if grids else np.nan,
               outside_any_service=int(head.get("outside_any_service", 0) or 0))
    row["share_outside_any"] = (round(row["outside_any_service"] / households, 4)
                                if households else np.nan)
    coverage = summary.get("coverage") or {}
    for s in services:
        value = coverage.get(s)
        row[f"coverage_{s}"] = round(float(value), 4) if value is not None else np.nan
    gaps = read_gaps(folder)
    if gaps is not None and len(gaps):
        top = gaps.sort_values(["households", "service"], ascending=[False, True]).iloc[0]
        row["largest_gap_service"], row["largest_gap_households"] = top["service"], int(top["households"])
    capacity = summary.get("capacity") or {}
    for s, info in capacity.items():
        if isinstance(info, dict) and info.get("shortfall") is not None:
            row[f"shortfall_{s}"] = info["shortfall"]
    completeness = summary.get("data_completeness") or {}
    blocks = completeness.get("blocks") or {}
    if blocks.get("share_with_households") is not None:
        row["blocks_with_data"] = round(float(blocks["share_with_households"]), 4)
    row["thin_services"] = ", ".join(completeness.get("thin_services") or [])
    walls = summary.get("compound_access") or {}
    if walls:
        row["compounds_gated"] = int(walls.get("compounds_gated") or 0)
        row["households_behind_walls"] = int(walls.get("households_affected") or 0)
    return row


def comparison_frame(outcomes: list[dict], out: Path) -> tuple[pd.DataFrame, dict]:
    """One row per district (CSV order) and the thresholds of the services shown."""
    out = Path(out)
    summaries = {o["name"]: (read_summary(out / o["name"]) if o["status"] in ("done", "skipped")
                             else None) for o in outcomes}
    services = services_of([s for s in summaries.values() if s])
    rows = [district_row(o, out / o["name"], services, summaries[o["name"]]) for o in outcomes]
    frame = pd.DataFrame(rows, columns=None if rows else ["district", "status", "error"])
    coverage = [f"coverage_{s}" for s in services if f"coverage_{s}" in frame]
    if coverage:  # the services' plain mean: one figure to rank districts by
        mean = frame[coverage].apply(pd.to_numeric, errors="coerce").mean(axis=1).round(4)
        frame.insert(frame.columns.get_loc(coverage[0]), "mean_coverage", mean)
    thresholds = {}
    for summary in summaries.values():
        for s, minutes in ((summary or {}).get("thresholds_min") or {}).items():
            thresholds.setdefault(s, minutes)
    credits = []  # the data credits of the districts compared (© OpenStreetMap contributors)
    for summary in summaries.values():
        credit = (summary or {}).get("credit")
        if credit and credit not in credits:
            credits.append(credit)
    return frame, {"services": services, "thresholds": thresholds, "credits": credits}


def ranking(frame: pd.DataFrame, services: list[str]) -> pd.DataFrame:
    """Each district's rank per indicator (1 = best; districts without a figure unranked)."""
    ranks = pd.DataFrame({"district": frame["district"]})
    fields = [f for f in RANKED if f in frame] + [f"coverage_{s}" for s in services
                                                  if f"coverage_{s}" in frame]
    for field in fields:
        larger_better = RANKED.get(field, True)
        values = pd.to_numeric(frame[field], errors="coerce")
        ranks[f"rank_{field}"] = values.rank(ascending=not larger_better, method="min").astype("Int64")
    return ranks


def both_label(field: str, services: dict) -> str:
    zh, en = label(field, "zh", services), label(field, "en", services)
    return zh if zh == en else f"{zh} / {en}"


def _sheet(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """``frame`` as written: text cleaned and neutralised, a heading row (中文 / English)
    over the field names."""
    clean = frame.copy()
    if "error" in clean:  # a note (or a bug's text), for readers of either language
        clean["error"] = clean["error"].map(error_line)
    for col in clean.columns:
        if clean[col].dtype == object or pd.api.types.is_string_dtype(clean[col]):
            clean[col] = clean[col].map(lambda v: ILLEGAL_XLSX.sub("", v) if isinstance(v, str) else v)
    clean = neutral_frame(clean)
    fields = [str(c) for c in clean.columns]
    headings = [both_label(f.lstrip("'"), names) for f in fields]
    body = pd.concat([pd.DataFrame([fields], columns=fields), clean], ignore_index=True)
    body.columns = headings if len(set(headings)) == len(headings) else fields
    return body


def write_xlsx(frame: pd.DataFrame, ranks: pd.DataFrame, meta: dict, target: Path) -> Path:
    """``comparison.xlsx``: the districts, their ranks, and the note on the figures."""
    names = service_names(meta)
    with atomic_file(target) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for key, part in (("districts", frame), ("ranking", ranks)):
                sheet = f"{t(f'batch.sheet.{key}', 'zh')} {t(f'batch.sheet.{key}', 'en')}"[:31]
                _sheet(part, names).to_excel(writer, sheet_name=sheet, index=False)
                writer.book[sheet].freeze_panes = "B3"
            note = pd.DataFrame({"note": [t("batch.xlsx_note", "zh"), t("batch.xlsx_note", "en"),
                                          *meta.get("credits", [])]})
            neutral_frame(note).to_excel(writer, sheet_name=t("batch.sheet.note", "en")[:31],
                                         index=False)
    return target


def write_comparison(outcomes: list[dict], out: str | Path, *, lang: str = "zh") -> list[Path]:
    """Write ``comparison.xlsx`` and ``comparison.pdf`` into ``out``; return their paths."""
    from analysis.batch.pdf import write_pdf  # matplotlib: only when a PDF is asked for

    out = Path(out)
    frame, meta = comparison_frame(outcomes, out)
    ranks = ranking(frame, meta["services"])
    files = [write_xlsx(frame, ranks, meta, out / XLSX)]
    files.append(write_pdf(frame, ranks, meta, out, out / PDF, lang=lang))
    return files


__all__ = ["comparison_frame", "ranking", "write_comparison", "write_xlsx"]
