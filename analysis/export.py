"""Exports of a project for other tools: GeoPackage, GeoJSON (WGS84), zipped Shapefile,
CSV and XLSX tables.

Every export is written into a hidden staging folder beside its targets and moved into
place only when all its files were written (:mod:`analysis.outputs`): a failed export
(a full disk, a writer's error) leaves the folder as it was. Text cells that a
spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, also after leading spaces) are written with a leading apostrophe in CSV
and XLSX, as OWASP recommends, after line breaks inside a cell became spaces (so no cell
splits into a row of its own); numbers stay numbers. CSV and XLSX tables carry two header rows: the column
headings in the chosen language, then the field names programs read (``header=1`` in
pandas); the workbook also has a fields sheet pairing the two.

Chinese text survives every format: GeoJSON is UTF-8; each Shapefile carries a ``.cpg``
saying UTF-8 (and long text is cut at a character boundary to fit the 254-byte field
limit); CSV is UTF-8 *with* a byte-order mark so that Excel recognises it; XLSX stores
Unicode. Where OpenStreetMap data was used, every export carries the credit: the
GeoPackage's layer descriptions and meta table, a top-level ``attribution`` member in
each GeoJSON file, a ``CREDIT.txt`` inside the Shapefile zip, a ``credit`` column in each
CSV, and the first sheet (and the printed footer) of the workbook.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from analysis.outputs import check_output_folder, staged_folder
from analysis.project import CONTRACT_LAYERS, Project, read_journal, save, to_storage
from geo.vocabulary import (CAPACITY_KINDS, capacity_column, minutes_column,
                            per_service_column, service_of_column)
from geo.grids.reasons import reason_text
from geo.errors import InputError, ProjectFileError
from geo.i18n import BOTH, t, table
from analysis.export_words import localise
from analysis.gridsystem import signboard_table
from analysis.project import journal_frame
from geo.catalogue import load_catalogue

FORMATS = ("gpkg", "geojson", "shp", "csv", "xlsx")
#: Tables written to CSV/XLSX (point and polygon layers get lon/lat of a point on them).
TABLE_LAYERS = ("grids", "coverage", "coverage_levels", "communities", "households", "facilities",
                "gaps", "workers")  # workers: only in a project passed with_workers
WORKER_LAYERS = ("workers",)  # the grid workers' roster: left out unless asked
MIME = {"gpkg": "application/geopackage+sqlite3", "xlsx":
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "zip": "application/zip"}
EXCEL_MAX_ROWS = 1_048_575
DBF_MAX_BYTES = 254
#: Shapefile field names are at most 10 characters; these are the names used for ours.
SHP_NAMES = {
    "community_id": "comm_id", "polsby_popper": "pp", "arterial_crossings": "art_cross",
    "split_buildings": "split_bldg", "facility_id": "fac_id", "building_id": "bldg_id",
    "compound_id": "compnd_id", "floor_area_m2": "floor_m2", "on_network": "on_net",
    "off_network": "off_net",
    **{minutes_column(service): short for service, short in (
        ("community_service", "wm_comm"), ("health", "wm_health"), ("kindergarten", "wm_kinder"),
        ("primary_school", "wm_primary"), ("middle_school", "wm_middle"),
        ("elderly_care", "wm_elderly"), ("market", "wm_market"), ("convenience", "wm_conv"),
        ("pharmacy", "wm_pharm"), ("sports", "wm_sports"), ("park", "wm_park"),
        ("bus_stop", "wm_bus"), ("culture", "wm_culture"))},
}
#: Capacity columns (demand_/supply_/shortfall_<service>): dm_/sp_/sf_ and the walk name's tail.
SHP_NAMES.update({capacity_column(kind, service_of_column(col)): f"{short}_{name.removeprefix('wm_')}"
                  for col, name in list(SHP_NAMES.items()) if service_of_column(col)
                  for kind, short in zip(CAPACITY_KINDS, ("dm", "sp", "sf"))})
SHP_NAMES.update({"capacity_source": "cap_src"})
ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: A text cell starting with one of these is a formula to Excel, LibreOffice and WPS (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _check_format(fmt: str) -> str:
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError("err.export_format", format=fmt, choices=", ".join(FORMATS))
    return fmt


def _out_dir(out_dir: str | Path) -> Path:
    out = check_output_folder(out_dir)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise ProjectFileError("err.write_failed", path=out, detail=exc.strerror or exc) from None
    return out


#: Characters that end a line to some CSV reader (a lone carriage return splits a row in
#: Excel and LibreOffice even where Python's writer leaves the field unquoted).
_LINE_BREAKS = re.compile("[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
#: Characters a spreadsheet passes over before it looks for a formula sign.
_LEADING = " \t\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff"


def neutral_text(value: object) -> object:
    """A cell as written to CSV/XLSX: line breaks become spaces (a cell never splits into
    a second row), then text that a spreadsheet would run as a formula, even after leading
    spaces, gets a leading apostrophe (OWASP CSV injection); everything else is returned
    unchanged."""
    if not isinstance(value, str):
        return value
    value = _LINE_BREAKS.sub(" ", value)
    if value.startswith(FORMULA_START) or value.lstrip(_LEADING).startswith(FORMULA_START):
        return "'" + value
    return value


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and column name, and a text index) passed through
    :func:`neutral_text`: for every file written and for every table the page shows (a
    shown table offers its own CSV download in the browser)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutral_text)
    out.columns = [neutral_text(str(c)) for c in out.columns]
    if out.index.dtype == object or pd.api.types.is_string_dtype(out.index):
        out.index = out.index.map(neutral_text).rename(out.index.name)
    return out


_neutral_frame = neutral_frame


def column_label(column: str, lang: str) -> str:
    """A column's heading in ``lang`` (the field name itself when it has none)."""
    keys = table()
    if f"export.col.{column}" in keys:
        return t(f"export.col.{column}", lang)

    names = {s.key: s.name(lang) for s in load_catalogue()}
    found = per_service_column(column, names)
    if found is not None:
        kind, key = found
        return t(f"export.col.{'walk_min' if kind == 'minutes' else kind}", lang,
                 service=names[key])
    return column


def sheet_label(name: str, lang: str) -> str:
    """A table's sheet name in ``lang`` (at most 31 characters, as Excel allows)."""
    key = f"export.sheet.{name}"
    return (t(key, lang) if key in table() else name)[:31]


def _with_headings(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` (already neutralised) under a heading row in ``lang``: its columns become
    the headings and its first row the field names."""
    fields = [str(c) for c in frame.columns]
    headings = [neutral_text(column_label(c.lstrip("'"), lang)) for c in fields]
    body = pd.concat([pd.DataFrame([fields], columns=fields), frame], ignore_index=True)
    body.columns = headings if len(set(headings)) == len(headings) else fields
    return body


def _stem(project: Project) -> str:
    if project.path is not None:
        return Path(project.path).stem
    name = re.sub(r"[^\w\-]+", "_", str(project.meta.get("area") or "gridcircle")).strip("_")
    return name or "gridcircle"


def _layers(project: Project, names: tuple[str, ...] = CONTRACT_LAYERS + WORKER_LAYERS
            ) -> dict[str, pd.DataFrame]:
    return {n: project.layers[n] for n in names
            if n in project.layers and project.layers[n] is not None and len(project.layers[n])}


def _plain_columns(frame: pd.DataFrame, lang: str | None = BOTH) -> pd.DataFrame:
    """Booleans as 0/1, text columns as plain Python strings and stored reasons (and the
    journal's warnings) as sentences in ``lang`` (``中文 / English`` unless said; ``None``:
    kept as stored, for :func:`analysis.export_words.localise`)."""
    out = frame.copy()
    for col in out.columns:
        if col == "geometry":
            continue
        if col in ("reason", "warnings") and lang is not None:
            out[col] = out[col].map(lambda r: reason_text(r, lang))
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype(int)
    return out


def _as_table(frame: pd.DataFrame, lang: str | None = BOTH) -> pd.DataFrame:
    """A layer as a plain table: geometry replaced by lon/lat (WGS84) of a point on it
    (reasons in ``lang``: :func:`_plain_columns`)."""
    frame = _plain_columns(frame, lang)
    if not isinstance(frame, gpd.GeoDataFrame):
        return pd.DataFrame(frame).reset_index(drop=True)
    wgs = frame.to_crs(4326) if frame.crs is not None else frame
    pts = wgs.geometry.representative_point()
    table = pd.DataFrame(wgs.drop(columns=wgs.geometry.name)).reset_index(drop=True)
    table["lon"] = np.round(pts.x.to_numpy(), 7)
    table["lat"] = np.round(pts.y.to_numpy(), 7)
    return table


def _journal_table(project: Project) -> pd.DataFrame | None:
    if project.session is not None and project.session.entries:

        return journal_frame(project.session).drop(columns="record")
    if project.path is not None and Path(project.path).exists():
        frame = read_journal(project.path)
        return frame.drop(columns="record") if len(frame) else None
    return None


def _credit_text(project: Project, lang: str) -> str:
    lines = [t("export.credit_intro", lang, area=project.meta.get("area", ""))]
    if project.credit:
        lines.append(project.credit)
        lines.append(t("export.odbl", lang))
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- writers


def write_gpkg(project: Project, out_dir: Path) -> list[Path]:
    """A copy of the whole project as a new GeoPackage (not bound to the original file)."""
    from dataclasses import replace

    target = out_dir / f"{_stem(project)}.gpkg"
    save(replace(project, path=None), target)
    return [target]


def write_geojson(project: Project, out_dir: Path) -> list[Path]:
    """One RFC 7946 GeoJSON file (WGS84) per layer; ``coverage`` as features without geometry."""
    stem, out = _stem(project), []
    options = {"RFC7946": "YES"}
    if project.credit:
        options["DESCRIPTION"] = project.credit
        options["FOREIGN_MEMBERS_COLLECTION"] = json.dumps({"attribution": project.credit},
                                                           ensure_ascii=False)
    for name, frame in _layers(project).items():
        path = out_dir / f"{stem}_{name}.geojson"
        data = _plain_columns(to_storage(frame))
        if not isinstance(data, gpd.GeoDataFrame):
            data = gpd.GeoDataFrame(data, geometry=[None] * len(data), crs=4326)
        pyogrio.write_dataframe(data, path, layer=name, driver="GeoJSON", layer_options=options)
        out.append(path)
    return out


def _shp_names(columns: list[str]) -> dict[str, str]:
    names, used = {}, set()
    for col in columns:
        if col == "geometry":
            continue
        short = SHP_NAMES.get(col, col)
        if len(short) > 10 or short.lower() in used:
            base = short[:8]
            k = 1
            while f"{base}{k:02d}"[:10].lower() in used:
                k += 1
            short = f"{base}{k:02d}"[:10]
        used.add(short.lower())
        names[col] = short
    return names


def _fit_dbf(value: object) -> object:
    """Cut text to the DBF limit at a character boundary (UTF-8 bytes)."""
    if not isinstance(value, str):
        return value
    raw = value.encode("utf-8")
    if len(raw) <= DBF_MAX_BYTES:
        return value
    return raw[:DBF_MAX_BYTES].decode("utf-8", errors="ignore")


def write_shapefile(project: Project, out_dir: Path, *, lang: str = "zh") -> list[Path]:
    """One zip holding a UTF-8 Shapefile (with ``.cpg``) per layer, the field-name key and
    ``CREDIT.txt``."""
    stem = _stem(project)
    target = out_dir / f"{stem}_shp.zip"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        key_rows = []
        for name, frame in _layers(project).items():
            data = _plain_columns(to_storage(frame))
            names = _shp_names(list(data.columns))
            key_rows += [{"layer": name, "shapefile_field": s, "field": c} for c, s in names.items()]
            data = data.rename(columns=names)
            for col in names.values():
                if data[col].dtype == object or pd.api.types.is_string_dtype(data[col]):
                    data[col] = data[col].map(_fit_dbf)
            pyogrio.write_dataframe(data, tmp / f"{name}.shp", driver="ESRI Shapefile",
                                    layer_options={"ENCODING": "UTF-8"})
        pd.DataFrame(key_rows).to_csv(tmp / "fields.csv", index=False, encoding="utf-8-sig")
        (tmp / "CREDIT.txt").write_text(_credit_text(project, lang), encoding="utf-8")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(tmp.iterdir()):
                zf.write(path, arcname=path.name)
    return [target]


def table_frames(project: Project, lang: str | None = None) -> dict[str, pd.DataFrame]:
    """The project's tables as exported to CSV and XLSX (credit column where OSM was used);
    with ``lang``, their cells in that language (:func:`analysis.export_words.localise`)."""

    out = {}
    for name, frame in _layers(project, TABLE_LAYERS).items():
        table = _as_table(frame, BOTH if lang is None else None)
        if project.credit:
            table["credit"] = project.credit
        out[name] = table
    journal = _journal_table(project)
    if journal is not None and len(journal):
        out["journal"] = journal if lang is not None else _plain_columns(journal)
    grids = project.layers.get("grids")
    if grids is not None and len(grids):  # signboards: code, name, 四至 (workers if kept)

        out["signboard"] = signboard_table(project, with_workers="workers" in project.layers)
        if project.credit:
            out["signboard"]["credit"] = project.credit
    if lang is not None:
        out = {name: localise(name, frame, lang) for name, frame in out.items()}
    return out


def write_csv(project: Project, out_dir: Path, *, lang: str = "zh") -> list[Path]:
    """One CSV per table, UTF-8 with a byte-order mark (Excel shows Chinese correctly):
    headings in ``lang``, then the field names, then the rows."""
    stem, out = _stem(project), []
    for name, frame in table_frames(project, lang).items():
        path = out_dir / f"{stem}_{name}.csv"
        _with_headings(_neutral_frame(frame), lang).to_csv(path, index=False, encoding="utf-8-sig")
        out.append(path)
    return out


def _about_rows(project: Project, lang: str) -> list[tuple[str, str]]:
    summary = project.summary
    rows = [(t("export.about.area", lang), str(project.meta.get("area", ""))),
            (t("export.about.saved", lang), str(project.meta.get("saved_at", ""))),
            (t("export.about.band", lang), "–".join(map(str, project.band))),
            (t("export.about.households", lang), str(summary.get("households", ""))),
            (t("export.about.grids", lang), str(summary.get("grids", ""))),
            (t("export.about.grids_in_band", lang), str(summary.get("grids_in_band", "")))]
    if project.credit:
        rows.append((t("export.about.credit", lang), project.credit))
    return rows


def write_xlsx(project: Project, out_dir: Path, *, lang: str = "zh") -> list[Path]:
    """One workbook: an about sheet (area, settings, credit) and one sheet per table."""
    target = out_dir / f"{_stem(project)}.xlsx"
    tables = table_frames(project, lang)
    fields = []
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        about = pd.DataFrame(_about_rows(project, lang), columns=[t("export.about.item", lang),
                                                                  t("export.about.value", lang)])
        notes = []
        for name, frame in tables.items():
            if len(frame) > EXCEL_MAX_ROWS:
                notes.append((t("export.about.too_long", lang, sheet=name, rows=len(frame)), ""))
        if notes:
            about = pd.concat([about, pd.DataFrame(notes, columns=about.columns)], ignore_index=True)
        _neutral_frame(about).to_excel(writer, sheet_name=t("export.about.sheet", lang)[:31],
                                       index=False)
        for name, frame in tables.items():
            if len(frame) > EXCEL_MAX_ROWS:
                continue
            clean = frame.copy()
            for col in clean.columns:
                if clean[col].dtype == object or pd.api.types.is_string_dtype(clean[col]):
                    clean[col] = clean[col].map(
                        lambda v: ILLEGAL_XLSX.sub("", v) if isinstance(v, str) else v)
            clean = _neutral_frame(clean)
            sheet = sheet_label(name, lang)
            fields += [(sheet, c, column_label(c.lstrip("'"), lang)) for c in clean.columns]
            _with_headings(clean, lang).to_excel(writer, sheet_name=sheet, index=False)
            writer.book[sheet].freeze_panes = "A3"
        key = pd.DataFrame(fields, columns=[t(f"export.fields.{c}", lang)
                                            for c in ("sheet", "field", "label")])
        note = pd.DataFrame([(t("export.fields.note", lang), "", "")], columns=key.columns)
        _neutral_frame(pd.concat([key, note], ignore_index=True)).to_excel(
            writer, sheet_name=t("export.sheet.fields", lang)[:31], index=False)
        for sheet in writer.book.worksheets:
            if project.credit:
                sheet.oddFooter.center.text = project.credit
            if sheet.freeze_panes is None:
                sheet.freeze_panes = "A2"
    return [target]


def export_project(project: Project, fmt: str, out_dir: str | Path, *, lang: str = "zh",
                   with_workers: bool = False) -> list[Path]:
    """Write ``project`` in one format into ``out_dir`` (created if missing).

    Parameters
    ----------
    project
        From :func:`analysis.project.open_project` or ``project_from_result``.
    fmt
        ``gpkg``, ``geojson``, ``shp`` (zipped), ``csv`` or ``xlsx``.
    out_dir
        Folder to write into; its parent must exist.
    lang
        Language of the credit note and the workbook's about sheet.
    with_workers
        Include the grid workers' roster (the ``workers`` layer, names and phones on the
        signboard table); left out by default.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        For an unknown format or an unusable folder.
    ProjectFileError
        If a file cannot be written.
    """
    fmt = _check_format(fmt)
    out = _out_dir(out_dir)
    if not with_workers and "workers" in project.layers:
        from dataclasses import replace

        project = replace(project, layers={k: v for k, v in project.layers.items()
                                           if k not in WORKER_LAYERS})
    writers = {"gpkg": write_gpkg, "geojson": write_geojson,
               "shp": lambda p, o: write_shapefile(p, o, lang=lang),
               "csv": lambda p, o: write_csv(p, o, lang=lang),
               "xlsx": lambda p, o: write_xlsx(p, o, lang=lang)}
    try:
        with staged_folder(out) as stage:
            staged = writers[fmt](project, stage)
    except ProjectFileError:
        raise
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:160] if str(exc) \
            else type(exc).__name__
        raise ProjectFileError("err.write_failed", path=out, detail=detail) from None
    return [out / p.name for p in staged]


def export_bytes(project: Project, fmt: str, *, lang: str = "zh",
                 with_workers: bool = False) -> tuple[str, bytes, str]:
    """An export as one download: ``(file name, content, MIME type)``.

    GeoPackage and XLSX are single files; GeoJSON and CSV come as a zip of their files
    (plus ``CREDIT.txt``); the Shapefile export is already a zip.
    """
    fmt = _check_format(fmt)
    with tempfile.TemporaryDirectory() as tmp:
        files = export_project(project, fmt, tmp, lang=lang, with_workers=with_workers)
        if len(files) == 1 and fmt in ("gpkg", "xlsx", "shp"):
            path = files[0]
            mime = MIME["zip"] if fmt == "shp" else MIME[fmt]
            return path.name, path.read_bytes(), mime
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, arcname=path.name)
            zf.writestr("CREDIT.txt", _credit_text(project, lang))
        return f"{_stem(project)}_{fmt}.zip", buffer.getvalue(), MIME["zip"]


__all__ = ["FORMATS", "export_bytes", "export_project", "table_frames", "write_csv",
           "write_geojson", "write_gpkg", "write_shapefile", "write_xlsx"]
