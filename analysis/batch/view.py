"""A batch's folder as the page shows it: the comparison's tables in one language.

The page opens a batch folder (written by ``python -m analysis batch``) by reading its
``comparison.xlsx``: the districts and ranking sheets, whose first row holds the headings
in 中文 / English and whose second row the field names (:mod:`analysis.batch.compare`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.batch.compare import PDF, XLSX
from geo.errors import InputError
from geo.i18n import Note, as_note, note_text

SHEETS = ("districts", "ranking")


@dataclass(frozen=True)
class BatchView:
    """A batch folder's comparison: its tables (field names as columns) and headings."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    headings: dict[str, dict[str, Note | None]]  # sheet -> field -> heading

    def table(self, sheet: str, lang: str) -> pd.DataFrame:
        """``sheet`` with its headings (and the districts' errors) in ``lang``."""
        frame = self.tables[sheet]
        names = self.headings[sheet]
        if "error" in frame:  # written for readers of either language
            frame = frame.assign(error=frame["error"].map(lambda e: note_text(e, lang)))
        return frame.rename(columns={f: note_text(names[f], lang) or f for f in frame.columns
                                     if f in names})

    @property
    def finished(self) -> tuple[int, int]:
        """Districts finished (run or skipped) and districts in the batch."""
        status = self.tables["districts"].get("status", pd.Series(dtype=str))
        return int(status.isin(["done", "skipped"]).sum()), len(status)

    def file(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None


def open_batch(folder: str | Path) -> BatchView:
    """Read a batch folder's comparison.

    Raises
    ------
    InputError
        If ``folder`` holds no readable ``comparison.xlsx``.
    """
    folder = Path(folder)
    path = folder / XLSX
    if not path.is_file():
        raise InputError("err.batch_no_comparison", path=folder)
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except Exception:  # not a workbook, or damaged
        raise InputError("err.batch_no_comparison", path=folder) from None
    tables, headings = {}, {}
    for key, raw in zip(SHEETS, list(sheets.values())[:2]):
        if len(raw) < 2:
            raise InputError("err.batch_no_comparison", path=folder)
        fields = [str(f) for f in raw.iloc[1]]
        headings[key] = {f: as_note(h) for f, h in zip(fields, raw.iloc[0])}  # 中文 / English
        body = raw.iloc[2:].reset_index(drop=True)
        body.columns = fields
        tables[key] = body.infer_objects()
    if set(tables) != set(SHEETS):
        raise InputError("err.batch_no_comparison", path=folder)
    return BatchView(folder=folder, tables=tables, headings=headings)


__all__ = ["BatchView", "PDF", "XLSX", "open_batch"]
