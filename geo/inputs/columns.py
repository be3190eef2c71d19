"""Recognising the columns of uploaded tables and layers, and keeping personal data out.

Column names come in Chinese and English, full- or half-width, with units or coordinate
systems in brackets (``户数（户）``, ``经度(GCJ02)``, ``lng_gcj02``). The names recognised
live in an editable table, ``data/input_columns.csv``. Columns that hold personal data
(姓名, 身份证号, 手机, 电话, ...) are recognised by name and, as a second line of defence,
by content (mobile numbers, ID-card numbers, e-mail addresses).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.inputs.disguise import CLOSE_BRACKETS, OPEN_BRACKETS, plain_text, simplified
from geo.inputs.personal import contains_personal, scrub_series

DEFAULT_COLUMNS = Path(__file__).resolve().parents[2] / "data" / "input_columns.csv"
PERSONAL = "personal"
#: Coordinate-system names that may appear inside a column name.
CRS_HINTS = {"wgs84": "wgs84", "wgs": "wgs84", "gcj02": "gcj02", "gcj": "gcj02",
             "火星": "gcj02", "高德": "gcj02", "腾讯": "gcj02", "bd09": "bd09", "bd": "bd09",
             "百度": "bd09", "baidu": "bd09", "amap": "gcj02", "cgcs2000": "cgcs2000",
             "2000": "cgcs2000"}
_BRACKET = re.compile(r"[(\[{<](.*?)[)\]}>]")
_TOKEN_SPLIT = re.compile(r"[\s_\-./:|,;]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
#: Words that mark a total row in a register (合计 rows would count households twice).
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "总数", "total", "sum", "subtotal"})


@dataclass(frozen=True)
class Aliases:
    """Recognised column names: ``fields`` maps a field to its aliases in priority order."""

    fields: dict[str, tuple[str, ...]]
    personal: tuple[str, ...]


@lru_cache(maxsize=4)
def load_aliases(path: str | Path = DEFAULT_COLUMNS) -> Aliases:
    """Read the column-name table (``field,alias`` rows; ``#`` starts a comment row)."""
    path = Path(path)
    fields: dict[str, list[str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            key = (row.get("field") or "").strip()
            if not key or key.startswith("#"):
                continue
            alias = normalise_name(row.get("alias") or "")[0]
            if not alias:
                raise InputError("err.type_table", path=path.name, row=row_no, detail="empty alias")
            fields.setdefault(key, []).append(alias)
    personal = tuple(fields.pop(PERSONAL, []))
    return Aliases(fields={k: tuple(v) for k, v in fields.items()}, personal=personal)


def normalise_text(value: object) -> str:
    """NFKC (full-width → half-width), stripped, lower case, inner spaces removed."""
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return re.sub(r"\s+", "", text)


def normalise_name(name: object) -> tuple[str, str | None]:
    """A column name reduced for matching, and the coordinate system it names, if any.

    ``'经度（GCJ-02）'`` → ``('经度', 'gcj02')``; ``'lng_gcj02'`` → ``('lng', 'gcj02')``;
    ``'户数(户)'`` → ``('户数', None)``.
    """
    raw = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff")
    raw = _CAMEL.sub("_", raw)
    hint = None
    inside = " ".join(_BRACKET.findall(raw))
    base = _BRACKET.sub(" ", raw)
    for text in (inside, base):
        for token in _TOKEN_SPLIT.split(text.lower().replace("-", "")):
            for word, crs in CRS_HINTS.items():
                contained = word in token and (not word.isascii() or len(word) >= 4)
                if token == word or contained:
                    hint = hint or crs
    tokens = [tok for tok in _TOKEN_SPLIT.split(base.lower()) if tok]
    kept = []
    for tok in tokens:
        if tok.replace("-", "") in CRS_HINTS:
            continue
        for word in CRS_HINTS:
            if (not word.isascii() or len(word) >= 4) and word in tok and tok != word:
                tok = tok.replace(word, "")
        if tok:
            kept.append(tok)
    reduced = "_".join(kept) if kept else "_".join(tokens)
    return reduced.strip("_"), hint


def _is_personal(reduced: str, aliases: Aliases) -> bool:
    reduced = simplified(reduced)  # 戶主, 聯繫人, 電話 are 户主, 联系人, 电话
    words = set(reduced.split("_")) | {reduced, reduced.replace("_", "")}
    for alias in aliases.personal:
        if alias.isascii():
            if alias in words:
                return True
        elif alias in reduced:
            return True
    return False


_BRACKETS_ANY = re.compile("[" + re.escape(OPEN_BRACKETS + CLOSE_BRACKETS) + "]")


def _personal_in_brackets(name: object, aliases: Aliases) -> bool:
    """Whether a part of the name after its first bracket (of any kind: ``楼栋（户主）``,
    ``小区【联系人】``) names a personal field: the column then holds that field."""
    parts = _BRACKETS_ANY.split(plain_text(str(name)))[1:]
    return any(_is_personal(normalise_name(part)[0], aliases) for part in parts if part.strip())


@dataclass(frozen=True)
class ColumnMatch:
    """How the columns of one file were understood.

    Attributes
    ----------
    column_map
        ``{field: column}`` for every recognised field.
    personal
        Columns recognised (by name) as personal data.
    ignored
        Other columns, not used.
    crs_hint
        A coordinate system named in a coordinate column's name, if any, with the column.
    """

    column_map: dict[str, str]
    personal: tuple[str, ...]
    ignored: tuple[str, ...]
    crs_hint: tuple[str, str] | None = None


def match_columns(columns: list[str], wanted: tuple[str, ...], *,
                  aliases: Aliases | None = None) -> ColumnMatch:
    """Match column names to ``wanted`` fields.

    Exact matches (after :func:`normalise_name`) come first, in alias order; then a name
    that starts with an alias (``户数合计``, ``小区名称及地址``). A column is personal
    when no field claims it exactly and its name contains a personal alias.
    """
    aliases = aliases or load_aliases()
    reduced = {col: normalise_name(col) for col in columns}
    column_map: dict[str, str] = {}
    # a header naming a personal field anywhere, brackets included, is personal first
    taken: set[str] = {c for c in columns if _personal_in_brackets(c, aliases)}

    def claim(predicate) -> None:
        for field in wanted:
            if field in column_map:
                continue
            for alias in aliases.fields.get(field, ()):
                hit = next((c for c in columns
                            if c not in taken and predicate(reduced[c][0], alias)), None)
                if hit is not None:
                    column_map[field] = hit
                    taken.add(hit)
                    break

    claim(lambda name, alias: name == alias or name.replace("_", "") == alias.replace("_", ""))
    personal = [c for c in columns if c not in column_map.values()
                and (c in taken or _is_personal(reduced[c][0], aliases))]
    taken.update(personal)
    claim(lambda name, alias: len(alias) >= 2 and not alias.isascii() and name.startswith(alias))
    ignored = [c for c in columns if c not in taken]
    hint = None
    for field in ("x", "y", "location"):
        col = column_map.get(field)
        if col is not None and reduced[col][1] is not None:
            hint = (reduced[col][1], col)
            break
    return ColumnMatch(column_map=column_map, personal=tuple(personal), ignored=tuple(ignored),
                       crs_hint=hint)


def find_header(rows: list[list[str]], wanted: tuple[str, ...], *, search_rows: int = 10) -> int:
    """Index of the header row: among the first rows, the one naming most wanted fields.

    Registers often start with a title row (``XX社区住户登记表``) above the header.
    """
    best, best_score = None, 0
    for k, row in enumerate(rows[:search_rows]):
        names = [c for c in row if c]
        if not names:
            continue
        score = len(match_columns(names, wanted).column_map)
        if score > best_score:
            best, best_score = k, score
    if best is not None:
        return best
    return next((k for k, row in enumerate(rows) if any(row)), 0)


def unique_headers(header: list[str]) -> list[str]:
    """Header names made non-empty and unique (``列3``, ``户数_2``)."""
    out, seen = [], {}
    for k, name in enumerate(header):
        name = name.strip() or f"列{k + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def personal_by_content(frame: pd.DataFrame, columns: list[str], *, share: float = 0.3,
                        sample: int = 20_000) -> tuple[list[str], dict[str, int]]:
    """Columns whose values are mostly personal data, and per other column how many values
    contain some (:mod:`geo.inputs.personal`: ID and phone numbers, e-mail addresses,
    names after 户主/联系人/姓名 ...).

    At most ``sample`` non-empty values per column, spread over the table, are looked at.
    Returns ``(personal_columns, {column: count in the sample})``.
    """
    personal, counts = [], {}
    for col in columns:
        values = frame[col].astype(str)
        values = values[values.str.strip() != ""]
        if values.empty:
            continue
        if len(values) > sample:
            values = values.iloc[np.linspace(0, len(values) - 1, sample).astype(int)]
        n = int(values.map(contains_personal).sum())
        if n and n >= share * len(values):
            personal.append(col)
        elif n:
            counts[col] = n
    return personal, counts


def scrub_personal(values: pd.Series) -> pd.Series:
    """``values`` with personal data replaced by ``***`` (:mod:`geo.inputs.personal`)."""
    return scrub_series(values)[0]


_DMS = re.compile(r"^([NSEW东西南北]?)\s*([+-]?\d+(?:\.\d+)?)\s*[°度]\s*(?:(\d+(?:\.\d+)?)\s*['′分])?\s*"
                  r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|′′|''|秒))?\s*([NSEW东西南北]?)$", re.IGNORECASE)


def parse_coordinate(value: str) -> float:
    """A coordinate from a cell: ``'116.35'``, ``'１１６．３５'``, ``'116°21′0″E'``.

    Returns NaN for an empty cell; raises ``ValueError`` for anything else unreadable.
    """
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return float("nan")
    if "," in text:  # thousands separators, or one decimal comma (116,35)
        head, _, tail = text.partition(",")
        thousands = len(tail) == 3 and tail.isdigit()
        decimal = text.count(",") == 1 and "." not in text and not thousands
        text = f"{head}.{tail}" if decimal else text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        match = _DMS.match(text)
        if match is None:
            raise ValueError(text) from None
        lead, deg, minutes, seconds, trail = match.groups()
        magnitude = abs(float(deg)) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
        negative = deg.startswith("-") or (lead + trail).upper() in ("S", "W", "西", "南")
        number = -magnitude if negative else magnitude
    if not np.isfinite(number):
        raise ValueError(text)
    return number


def parse_location(value: str) -> tuple[float, float]:
    """``'116.35,40.0'`` (or separated by spaces, ``;`` or ``，``) → ``(116.35, 40.0)``."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return float("nan"), float("nan")
    text = re.sub(r"^point\s*\(|\)$", "", text, flags=re.IGNORECASE).strip()
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    if len(parts) != 2:
        raise ValueError(text)
    return parse_coordinate(parts[0]), parse_coordinate(parts[1])


def parse_count(value: object) -> int | None:
    """A household count: ``'120'``, ``'120户'``, ``'1,200'``, ``120.0``; ``None`` if empty.

    Raises ``ValueError`` for anything that is not a whole number ≥ 0.
    """
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    text = text.replace(",", "").removesuffix("户").removesuffix("戸").strip()
    number = float(text)
    if not np.isfinite(number) or number < 0 or not float(number).is_integer() or number > 1e9:
        raise ValueError(text)
    return int(number)


def total_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of a table that are totals or subtotals (a cell saying ``合计``, ``Total`` ...)."""
    hit = np.zeros(len(frame), dtype=bool)
    for col in frame.columns:
        text = frame[col].astype(str).str.strip().str.lower().str.rstrip(":：")
        hit |= text.isin(TOTAL_WORDS).to_numpy()
    return hit


def is_total_row(cells: list[str]) -> bool:
    """Whether a row is a total or subtotal (``合计``, ``总计``, ``小计``, ``Total``)."""
    return any(normalise_text(c).rstrip(":") in TOTAL_WORDS for c in cells if c)
