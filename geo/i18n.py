"""The one translation table: every visible string in 中文 and English.

Strings live in ``data/i18n/*.csv`` (columns ``key,zh,en``), one file per area of the
tool so that translators can edit them without touching code. They are merged into one
table; a key defined twice is an error. Placeholders use ``str.format`` syntax.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
_TABLE_DIR = Path(__file__).resolve().parent.parent / "data" / "i18n"


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    """Return the merged translation table ``{key: {"zh": ..., "en": ...}}``."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_TABLE_DIR.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                key = (row.get("key") or "").strip()
                if not key or key.startswith("#"):
                    continue
                if key in merged:
                    raise RuntimeError(f"translation key {key!r} is defined twice ({path.name})")
                merged[key] = {"zh": row["zh"], "en": row["en"]}
    return merged


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """Translate ``key`` into ``lang`` and fill its placeholders.

    An unknown key is a bug, so it raises ``KeyError`` rather than showing the key.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    text = table()[key][lang]
    if not params:
        return text
    if lang == "en":
        if any(_is_one(v) for v in params.values()):
            text = _singular(text, params)
        # lists joined the Chinese way (名称、名称；…) read with English punctuation
        params = {k: v.translate(_EN_PUNCTUATION) if isinstance(v, str) else v
                  for k, v in params.items()}
    return text.format(**params)


_EN_PUNCTUATION = str.maketrans({"、": ", ", "，": ", ", "；": "; ", "：": ": ", "（": " (",
                                 "）": ")", "。": "."})


#: English plural nouns the table counts, and their singulars (``1 facility``, not
#: ``1 facilities``); a verb right after a counted noun agrees with it.
_SINGULAR = {"facilities": "facility", "communities": "community", "geometries": "geometry",
             "dormitories": "dormitory", "households": "household", "changes": "change",
             "buildings": "building", "compounds": "compound", "grids": "grid",
             "gates": "gate", "blocks": "block", "nodes": "node", "rows": "row", "ways": "way",
             "points": "point", "cells": "cell", "services": "service", "areas": "area",
             "gaps": "gap", "features": "feature", "characters": "character", "ids": "id",
             "candidates": "candidate", "junctions": "junction", "columns": "column",
             "files": "file", "edits": "edit", "units": "unit", "parts": "part", "sites": "site",
             "entrances": "entrance", "access points": "access point", "homes": "home",
             "workers": "worker", "pages": "page", "layers": "layer", "types": "type",
             "streets": "street", "roads": "road", "places": "place", "names": "name",
             "households'": "household's", "minutes": "minute", "seconds": "second",
             "times": "time", "values": "value", "polygons": "polygon", "settings": "setting"}
_VERBS = {"have": "has", "are": "is", "were": "was", "lie": "lies",
          "hold": "holds", "fall": "falls", "lack": "lacks", "need": "needs", "leave": "leaves",
          "live": "lives", "walk": "walks", "get": "gets", "use": "uses", "sit": "sits"}
_COUNTED = re.compile(r"\{(\w+)\}((?: [a-z-]+)?) ([a-z]+s'?|access points)\b")
_CLAUSE_END = re.compile(r"[;:.(]|, (?:so|and|but) ")


def _agree(clause: str) -> str:
    """The clause's first verb, and verbs joined to it by "and", in the singular."""
    words = re.compile(r"\b(and )?(" + "|".join(_VERBS) + r")\b")
    first = True

    def fix(v: re.Match) -> str:
        nonlocal first
        if first or v.group(1):
            first = False
            return (v.group(1) or "") + _VERBS[v.group(2)]
        return v.group(0)

    return words.sub(fix, clause)


def _is_one(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool) and str(value) == "1"


def _singular(text: str, params: dict) -> str:
    """``text`` with the nouns counted by a placeholder worth 1 in the singular, and the
    verbs of the clause they are the subject of agreeing with them."""
    out, pos = [], 0
    while (m := _COUNTED.search(text, pos)) is not None:
        if not _is_one(params.get(m.group(1))) or m.group(3) not in _SINGULAR:
            out.append(text[pos:m.end()])
            pos = m.end()
            continue
        out.append(text[pos:m.start()])
        out.append(f"{{{m.group(1)}}}{m.group(2)} {_SINGULAR[m.group(3)]}")
        pos = m.end()
        if m.start() and not text[:m.start()].rstrip().endswith((".", ":", ";", ",", " and")):
            continue  # not the subject of its clause
        end = _CLAUSE_END.search(text, pos)
        stop = end.start() if end else len(text)
        following = _COUNTED.search(text, pos, stop)  # another count: its own agreement
        stop = following.start() if following else stop
        out.append(_agree(text[pos:stop]))
        pos = stop
    out.append(text[pos:])
    return "".join(out)


#: The "language" of a reader not known (the command line, a file for anyone): each
#: language in turn, ``中文 / English``. Only :func:`note_text` joins the two.
BOTH = "both"

#: A note: ``{"key": translation key, "params": {name: value}}``, stored as it is in
#: SUMMARY.json and saved projects and translated only where shown (:func:`note_text`).
#: A value may differ by language (``{"zh": …, "en": …}``, :func:`note_by_language`) or
#: be a note of its own.
Note = dict

#: The key of a note kept as text (an older version's ``中文 / English`` note).
AS_WRITTEN = "note.as_written"


def _plain(value: object) -> object:
    """``value`` as JSON holds it: numpy numbers become Python numbers, other objects
    (a path) their text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    return str(value)


def note(key: str, /, **params: object) -> Note:
    """A note: translation ``key`` and its parameters (JSON-serialisable)."""
    return {"key": key, "params": {name: _plain(v) for name, v in params.items()}}


def note_by_language(key: str, params: dict[str, dict]) -> Note:
    """A note whose parameters are worded per language (``{"zh": {...}, "en": {...}}``,
    e.g. lists joined with 、 or with commas): a parameter alike in every language is
    kept once, one that differs as ``{"zh": …, "en": …}``."""
    names = {n for lang in LANGUAGES for n in (params.get(lang) or {})}
    out = {}
    for name in sorted(names):
        values = {lang: _plain((params.get(lang) or {}).get(name)) for lang in LANGUAGES}
        first = values[LANGUAGES[0]]
        out[name] = first if all(v == first for v in values.values()) else values
    return {"key": key, "params": out}


_CJK = re.compile(r"[\u3400-\u9fff]")


def as_note(value: object) -> Note | None:
    """Whatever a summary, a saved project or a reader holds as a note, as a note: a note,
    a ``(key, params)`` pair, or text (an older version's notes were one string
    ``中文 / English``; its halves are kept one per language). ``None`` for no note.

    This is the only place that cuts a message at ``" / "``."""
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        return {"key": value["key"], "params": dict(value.get("params") or {})}
    if (isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], dict)):
        return {"key": value[0], "params": dict(value[1])}
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if not text:
        return None
    zh, sep, en = text.partition(" / ")
    if sep and _CJK.search(zh) and not _CJK.search(en[:40]):
        return {"key": AS_WRITTEN, "params": {"text": {"zh": zh.strip(), "en": en.strip()}}}
    return {"key": AS_WRITTEN, "params": {"text": text}}


def _value_in(value: object, lang: str) -> object:
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        return note_text(value, lang)
    if isinstance(value, dict) and set(value) == set(LANGUAGES):
        return value[lang]
    return value


def note_text(value: object, lang: str) -> str:
    """A note (anything :func:`as_note` reads) in ``lang``; :data:`BOTH`: Chinese, then
    English where it differs (``中文 / English``), for readers whose language is unknown."""
    if lang == BOTH:
        zh, en = note_text(value, "zh"), note_text(value, "en")
        return zh if zh == en or not en else f"{zh} / {en}"
    found = as_note(value)
    if found is None:
        return ""
    params = {name: _value_in(v, lang) for name, v in found["params"].items()}
    if found["key"] == AS_WRITTEN:  # text as an older version wrote it: shown as it is
        return str(params.get("text", ""))
    if found["key"] not in table():  # a key of another version of the tool
        return found["key"]
    return t(found["key"], lang, **params)
