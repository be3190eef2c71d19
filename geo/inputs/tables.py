"""Reading tables users upload: CSV in the encodings Chinese offices use, and XLSX.

A CSV exported from Excel on a Chinese Windows machine is usually GBK (or GB18030, its
superset); newer tools write UTF-8, often with a byte-order mark. The encoding is found
automatically: byte-order marks, then strict UTF-8, then strict GB18030, then
charset-normalizer's best guess. Binary files given a ``.csv`` name are recognised and
refused with a message that says what they look like.

Cells come back as text exactly as written (``''`` for empty); turning them into numbers
is the readers' job (:mod:`geo.inputs`), which know which column is which.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from geo.errors import InputError
from geo.inputs.safezip import open_checked, read_member
from geo.settings import InputLimits

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
LEGACY_EXCEL_SUFFIXES = (".xls", ".et", ".wps")
_SNIFF_BYTES = 64 * 1024
#: Leading bytes of binary formats people mistake for tables.
_MAGIC = (
    (b"PK\x03\x04", "a zip or .xlsx file"), (b"PK\x05\x06", "a zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"), (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3\x00", "a GeoPackage or SQLite database"), (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"), (b"Rar!", "a RAR archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
)


@dataclass(frozen=True, eq=False)
class RawTable:
    """The rows of a table as text.

    Attributes
    ----------
    rows
        Every row as a list of cell texts (header rows included; trailing empty rows
        removed). Row ``k`` here is row ``k + 1`` in the user's spreadsheet.
    encoding
        The text encoding a CSV was read in (``None`` for XLSX).
    sheet
        The worksheet read (``None`` for CSV).
    notes
        ``(key, params)`` pairs for things the user should know.
    """

    rows: list[list[str]]
    encoding: str | None = None
    sheet: str | None = None
    notes: tuple[tuple[str, dict], ...] = field(default_factory=tuple)


def read_table(path: str | Path, *, limits: InputLimits = InputLimits()) -> RawTable:
    """Read a CSV or XLSX file into rows of text.

    Raises
    ------
    InputError
        If the file is missing, empty, too large, binary, in an unknown encoding,
        unparseable or longer than ``limits.max_rows``.
    """
    path = Path(path)
    check_file(path, limits=limits)
    suffix = path.suffix.lower()
    if suffix in LEGACY_EXCEL_SUFFIXES:
        raise InputError("err.xls_legacy", path=path.name)
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path, limits=limits)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, limits=limits)
    raise InputError("err.layer_format", path=path.name)


def check_file(path: Path, *, limits: InputLimits) -> None:
    """Refuse a missing, empty or oversized file."""
    if not path.is_file():
        raise InputError("err.file_missing", path=path)
    size = path.stat().st_size
    if size == 0:
        raise InputError("err.file_empty", path=path.name)
    if size > limits.max_file_bytes:
        raise InputError("err.file_too_large", path=path.name, size_mb=round(size / 2**20, 1),
                         limit_mb=limits.max_file_mb)


def binary_kind(data: bytes) -> str | None:
    """What a byte string looks like if it is not text (``None`` if it may be text)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:_SNIFF_BYTES]
    if not head:
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 with a byte-order mark
    if b"\x00" in head:
        if _utf16_without_bom(head):
            return None
        return "binary data"
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13, 27))
    if controls > max(2, len(head) // 100):
        return "binary data"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """``'utf-16-le'``/``'utf-16-be'`` if mostly-ASCII UTF-16 text, else ``None``."""
    even = head[0::2]
    odd = head[1::2]
    n = max(len(odd), 1)
    if odd.count(0) > 0.6 * n and even.count(0) < 0.05 * n:
        return "utf-16-le"
    if even.count(0) > 0.6 * n and odd.count(0) < 0.05 * n:
        return "utf-16-be"
    return None


def decode_text(data: bytes, *, path: Path) -> tuple[str, str]:
    """Decode a text file whose encoding nobody stated; return ``(text, encoding)``.

    Raises
    ------
    InputError
        ``err.table_binary`` for binary data, ``err.table_encoding`` if no encoding fits.
    """
    kind = binary_kind(data)
    if kind is not None:
        raise InputError("err.table_binary", path=path.name, kind=kind)
    boms = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
    candidates = [enc for bom, enc in boms if data.startswith(bom)]
    if (plain16 := _utf16_without_bom(data[:_SNIFF_BYTES])) is not None:
        candidates.append(plain16)
    candidates += ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            if _mostly_controls(text):
                raise InputError("err.table_binary", path=path.name, kind="binary data")
            return text, encoding
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * _SNIFF_BYTES]).best()
    if best is not None and best.encoding:
        try:
            text = data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            text = None
        if text is not None and "\x00" not in text and not _mostly_controls(text):
            return text, best.encoding
    raise InputError("err.table_encoding", path=path.name)


_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _mostly_controls(text: str) -> bool:
    """Whether decoded text holds more control characters than any real table does."""
    head = text[:_SNIFF_BYTES]
    return len(_CONTROLS.findall(head)) > max(2, len(head) // 100)


def _read_csv(path: Path, *, limits: InputLimits) -> RawTable:
    data = path.read_bytes()
    text, encoding = decode_text(data, path=path)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        dialect = csv.Sniffer().sniff(text[:_SNIFF_BYTES], delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:  # csv's default field limit (128 K characters) stays: no real cell is that long
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = _bounded(itertools.islice(reader, limits.max_rows + 20), limits=limits,
                        shown=path.name)
        if next(reader, None) is not None:
            raise InputError("err.table_too_many_rows", path=path.name, limit=limits.max_rows)
    except csv.Error as exc:
        raise InputError("err.table_parse", path=path.name, detail=exc) from None
    return RawTable(rows=_trim(rows), encoding=encoding,
                    notes=(("note.input_encoding",
                            {"path": path.name, "encoding": _label(encoding)}),)
                    if encoding not in ("utf-8", "utf-8-sig") else ())


def _label(encoding: str) -> str:
    return "GBK/GB18030" if encoding == "gb18030" else encoding.upper()


def cell_text(value: object) -> str:
    """A cell (from openpyxl or pandas) as text; ``''`` for empty or missing."""
    if value is None:
        return ""
    if not isinstance(value, (str, bytes, list, tuple, dict)):
        try:
            if pd.isna(value):
                return ""
        except (TypeError, ValueError):
            pass
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN from pandas
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


def _check_xlsx_members(path: Path, *, limits: InputLimits) -> None:
    """Refuse an .xlsx that is a zip bomb or whose XML declares entities."""
    with open_checked(path, limits=limits) as archive:
        budget = [limits.max_uncompressed_bytes]
        for info in archive.infolist():
            if not info.filename.lower().endswith((".xml", ".rels")):
                continue
            content = read_member(archive, info, path=path, limits=limits, budget=budget)
            if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
                raise InputError("err.xlsx_unreadable", path=path.name,
                                 detail="XML entity declarations are not allowed")


def _read_xlsx(path: Path, *, limits: InputLimits) -> RawTable:
    import openpyxl

    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError("err.xls_legacy", path=path.name)
    if not head.startswith(b"PK"):
        raise InputError("err.xlsx_unreadable", path=path.name, detail="not a zip container")
    _check_xlsx_members(path, limits=limits)
    notes: list[tuple[str, dict]] = []
    rows: list[list[str]] = []
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on damaged files
        raise InputError("err.xlsx_unreadable", path=path.name, detail=type(exc).__name__) from None
    try:
        names = list(workbook.sheetnames)
        chosen = None
        for name in names:
            sheet = workbook[name]
            if not hasattr(sheet, "iter_rows"):
                continue  # a chart sheet
            rows = _bounded(([cell_text(v) for v in row]
                             for row in sheet.iter_rows(values_only=True)),
                            limits=limits, shown=path.name)
            if len(rows) > limits.max_rows + 20:
                raise InputError("err.table_too_many_rows", path=path.name,
                                 limit=limits.max_rows)
            rows = _trim(rows)
            if rows:
                chosen = name
                break
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - damaged sheet XML surfaces while iterating
        raise InputError("err.xlsx_unreadable", path=path.name, detail=type(exc).__name__) from None
    finally:
        workbook.close()
    if chosen is not None and len(names) > 1:
        notes.append(("note.input_sheet_chosen", {"path": path.name, "sheets": "、".join(names),
                                                  "sheet": chosen}))
    return RawTable(rows=rows, sheet=chosen, notes=tuple(notes))


def _bounded(rows, *, limits: InputLimits, shown: str) -> list[list[str]]:
    """The rows, each without its trailing blank cells, refusing a table wider than
    ``limits.max_columns`` (cells with content) or larger than ``limits.max_cells`` in all
    (blank cells included), and more than ``limits.max_rows + 20`` rows; linear in the
    number of cells."""
    out, cells = [], 0
    for number, row in enumerate(rows, start=1):
        cells += len(row)
        if cells > limits.max_cells:
            raise InputError("err.table_too_many_cells", path=shown, limit=limits.max_cells)
        row = _trim_row(row)
        if len(row) > limits.max_columns:
            raise InputError("err.table_too_wide", path=shown, row=number,
                             columns=len(row), limit=limits.max_columns)
        out.append(row)
        if len(out) > limits.max_rows + 20:
            break
    return out


def _trim_row(row: list[str]) -> list[str]:
    """``row`` without its trailing blank cells (one slice: linear in the row's width)."""
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row if end == len(row) else row[:end]


def _trim(rows: list[list[str]]) -> list[list[str]]:
    """Drop trailing blank cells of each row and blank rows at the end (cells are left
    unstripped here; the readers strip whole columns at once)."""
    out = [_trim_row(row) for row in rows]
    while out and not out[-1]:
        out.pop()
    return out

