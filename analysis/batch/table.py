"""BATCH.csv: one row per district, turned into the argument list of a single ``run``.

A row's ``name`` names the district's folder; its other cells are ``run``'s input flags
without dashes (``osm`` or ``demo``, ``households``, ``facilities``, ``communities``,
``buildings``, ``compounds``, ``population``, ``gates`` …). Paths are relative to the
CSV's folder. The batch's own settings flags (``--grid-min 150``) apply to every row and
a row's cell of the same name overrides them. Each district's argument list is parsed by
``run``'s own parser (:func:`run_parser`), so a district takes exactly what a single run
takes and means the same by it.

The inputs' hash (:func:`inputs_hash`) covers the *contents* of every input file and every
setting (defaults included): a district whose hash matches its completion marker is done.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from geo.errors import InputError

from analysis.cli_parser import build_parser
from analysis.run_inputs import RUN_INPUT_FILES

#: Columns naming files (resolved against the CSV's folder, hashed by content).
PATH_COLUMNS = RUN_INPUT_FILES
#: run's options that the batch sets itself (one project and summary per district).
OWN_OPTIONS = ("out", "summary")
MARKER_VERSION = 1
MAX_NAME = 80
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


@dataclass(frozen=True)
class District:
    """One district of a batch: its name and the argument list of its single run."""

    name: str
    argv: tuple[str, ...]
    row: int


def run_parser() -> argparse.ArgumentParser:
    """``run``'s own parser; a bad argument raises :class:`InputError` instead of exiting."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    run = sub.choices["run"]

    def error(message: str):
        raise InputError("err.batch_arguments", detail=message[:200])

    run.error = error
    return run


def run_options(parser: argparse.ArgumentParser | None = None) -> dict[str, str]:
    """``{dest: --flag}`` of every option of ``run``."""
    parser = parser or run_parser()
    return {a.dest: max(a.option_strings, key=len) for a in parser._actions
            if a.option_strings and a.dest != "help"}


def _decode(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError("err.batch_encoding", path=path)


def _column(name: str) -> str:
    return name.strip().lstrip("-").strip().lower().replace("-", "_").replace(" ", "_")


def check_name(name: str, row: int) -> str:
    """A district's name as its folder's name: one line, no path characters."""
    name = (name or "").strip()
    if not name or name in (".", "..") or name.startswith(".") or _BAD_NAME.search(name) \
            or len(name) > MAX_NAME:
        raise InputError("err.batch_name", row=row, limit=MAX_NAME)
    return name


def read_batch(path: str | Path, settings_argv: list[str] | tuple[str, ...] = ()) -> list[District]:
    """The districts of ``BATCH.csv`` with their run arguments.

    Raises
    ------
    InputError
        If the file is missing or not a table, lacks ``name``, has an unknown column, a
        bad or repeated name, or no rows.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("err.file_missing", path=path)
    reader = csv.reader(io.StringIO(_decode(path.read_bytes(), path)))
    rows = [r for r in reader if any(c.strip() for c in r)]
    if not rows:
        raise InputError("err.batch_empty", path=path)
    header = [_column(c) for c in rows[0]]
    options = run_options()
    allowed = set(options) - set(OWN_OPTIONS)
    unknown = [c for c in header if c != "name" and c not in allowed]
    if "name" not in header or unknown:
        raise InputError("err.batch_columns", path=path, columns=", ".join(unknown[:5]) or "name",
                         allowed=", ".join(["name", *sorted(allowed)]))
    if len(set(header)) != len(header):
        raise InputError("err.batch_columns", path=path, columns="(repeated)",
                         allowed=", ".join(["name", *sorted(allowed)]))
    base = path.resolve().parent
    districts, seen = [], set()
    for number, cells in enumerate(rows[1:], start=2):
        record = dict(zip(header, (c.strip() for c in cells)))
        name = check_name(record.pop("name", ""), number)
        if name.casefold() in seen:
            raise InputError("err.batch_repeated", row=number, name=name)
        seen.add(name.casefold())
        argv = list(settings_argv)
        for column, value in record.items():
            if not value:
                continue
            if column in PATH_COLUMNS:
                value = str((base / value).resolve()) if not Path(value).is_absolute() else value
            argv += [options[column], value]
        districts.append(District(name=name, argv=tuple(argv), row=number))
    if not districts:
        raise InputError("err.batch_empty", path=path)
    return districts


def parse_district(district: District, out: Path | None = None) -> argparse.Namespace:
    """``run``'s arguments of ``district`` (its project in folder ``out``)."""
    folder = Path(out) if out is not None else Path(".")
    return run_parser().parse_args([*district.argv, "--out", str(folder / "project.gpkg"),
                                    "--summary", str(folder / "summary.json")])


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's contents."""
    path = Path(path)
    if not path.is_file():
        raise InputError("err.file_missing", path=path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inputs_hash(args: argparse.Namespace) -> str:
    """A hash of the district's input files (by content) and of all its settings."""
    settings, files = {}, {}
    for key, value in sorted(vars(args).items()):
        if key in OWN_OPTIONS:
            continue
        if key in PATH_COLUMNS and value:
            files[key] = file_digest(value)
        else:
            settings[key] = value
    record = {"version": MARKER_VERSION, "settings": settings, "files": files}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


__all__ = ["District", "PATH_COLUMNS", "check_name", "file_digest", "inputs_hash",
           "parse_district", "read_batch", "run_options", "run_parser"]
