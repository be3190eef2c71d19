"""Grid reasons as stored (translation keys with parameters) and as shown, in the
reader's language: the rule book (:mod:`geo.grids.rules`) decides the reasons, this module
only writes and reads them."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np

from geo.i18n import BOTH, LANGUAGES, note_text, t

#: a reason: translation key and its parameters
Reason = tuple[str, dict]


def _plain(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def encode_reasons(reasons: Sequence[Reason]) -> str:
    """Reasons as stored in a table: a JSON list of ``[key, params]`` ('' for none)."""
    if not reasons:
        return ""
    return json.dumps([[k, {p: _plain(v) for p, v in params.items()}] for k, params in reasons],
                      ensure_ascii=False, sort_keys=True)


def decode_reasons(value: object) -> list[Reason]:
    """The reasons stored by :func:`encode_reasons` (none for empty or missing values)."""
    if not isinstance(value, str) or not value.strip().startswith("["):
        return []
    try:
        items = json.loads(value)
    except ValueError:
        return []
    return [(str(k), dict(p)) for k, p in items]


def reason_text(value: object, lang: str) -> str:
    """Stored reasons as one sentence per reason in the reader's language (:data:`BOTH`:
    ``中文 / English``, for files whose reader's language is unknown). Text that is not
    stored reasons (a table written by hand, or an older version's ``中文 / English``) is
    shown as :func:`geo.i18n.note_text` reads it."""
    reasons = decode_reasons(value)
    if reasons and lang == BOTH:
        return f"{reason_text(value, 'zh')} / {reason_text(value, 'en')}"
    if reasons:
        texts = [t(k, lang, **p).strip() for k, p in reasons]
        if lang == "zh":
            return "".join(x if x.endswith("。") else x + "。" for x in texts)
        return " ".join(x if x.endswith(".") else x + "." for x in texts)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return note_text(value, lang) if lang in LANGUAGES else str(value).strip()


def name_text(value: object, lang: str) -> str:
    """A stored name (e.g. a derived community's ``name_key``) in the reader's language;
    a plain name is shown as it is."""
    keys = decode_reasons(value)
    if keys:
        return " ".join(t(k, lang, **p) for k, p in keys)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
