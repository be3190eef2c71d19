"""The one translation table: every visible string in 中文 and English.

Strings live in ``data/i18n/*.csv`` (columns ``key,zh,en``), one file per area of the
tool so that translators can edit them without touching code. They are merged into one
table; a key defined twice is an error. Placeholders use ``str.format`` syntax.
"""

from __future__ import annotations

import csv
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
    return text.format(**params) if params else text


def both(key: str, /, **params: object) -> str:
    """Return ``"中文 / English"`` for places that cannot know the reader's language."""
    return f"{t(key, 'zh', **params)} / {t(key, 'en', **params)}"
