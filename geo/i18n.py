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


def both(key: str, /, **params: object) -> str:
    """Return ``"中文 / English"`` for places that cannot know the reader's language."""
    return f"{t(key, 'zh', **params)} / {t(key, 'en', **params)}"
