"""Finding and removing personal data in the text a register carries.

Household registers (住户登记表) hold names, ID numbers and phone numbers, often inside
the very cells a planner needs — ``1号楼（户主：黄蓉）``, ``学清路8号 联系人林平之
138 0013 8000``. Gridcircle keeps building and compound labels and nothing else, and
even those are scrubbed here of:

- resident ID numbers: 18 digits (the last may be X) and the old 15-digit form, with or
  without a prefix (``身份证``, ``ID:``, ``No.``), in half- or full-width digits;
- phone numbers: mobiles (``138-0013-8000``, ``138.0013.8000``, ``+86 138 0013 8000``,
  full-width ``１３８００１３８０００``), landlines with an area code
  (``(010) 6278-1234``, ``0755-12345678 转 123``) and any other run of seven or more
  digits, which no building or compound label needs;
- e-mail addresses;
- personal names after the words that introduce them: 户主、联系人、姓名、户名 … with or
  without a colon, 业主、房主、租户、负责人 … with a colon (``业主：黄蓉``, but not
  ``业主委员会``), and ``name:``/``owner:``/``contact:``.

Text is matched in plain form (:mod:`geo.inputs.disguise`): Unicode NFKC, every space and
dash made plain, zero-width characters removed, so a number split by a no-break space,
``／``, ``_``, ``‐``, ``−``, a zero-width space or ``，`` is one digit run; marker words count
in traditional script too (``戶主``, ``聯繫人``) and names in any bracket (``户主【杨过】``).

Each hit is replaced by ``***``; :func:`scrub_text` says how many it replaced, so that
readers can tell the user (``note.input_privacy``). Over-scrubbing a label (a date
written as eight digits) is accepted; leaving a phone number is not.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from geo.inputs.disguise import OPEN_BRACKETS, plain_text, simplified

MASK = "***"
#: Longest label kept (a building or compound name); longer text is cut.
MAX_LABEL = 100

#: An 18-digit or 15-digit resident ID (any prefix may stand before it).
_ID = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?![\dXx])")
#: What may stand between the digit groups of one number: up to three characters that
#: are neither letters nor digits nor CJK (spaces, ``/``, ``_``, dashes, ``,``, brackets …;
#: :func:`geo.inputs.disguise.plain_text` has made every space and dash plain already).
_SEP = r"(?:[^\w]|_){1,3}"
#: Digits in groups across any separators (``138 0013 8000``, ``(010) 6278-1234``,
#: ``138/0013_8000``) or one long run; a decimal fraction (``116.3123456789``) never starts
#: one. Runs of seven or more digits are personal (mobiles, landlines, IDs, extensions).
_DIGIT_RUN = re.compile(
    r"(?<!\d\.)(?<!\d)(?:\+|00)?\d+(?:" + _SEP + r"\d+)*(?!\d)"
    r"(?:\s*(?:转|轉|ext\.?|x)\s*\d{1,6})?[Xx]?", re.IGNORECASE)
#: What marks a whole column as personal (:func:`contains_personal`): unmistakable
#: mobiles and landlines with area codes (a column of 9- or 12-digit community codes is not).
_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s.\-/_,]?\d){8}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)\(?0\d{2,3}\)?[\s\-/_,]?\d{7,8}(?!\d)")
#: Separators between digits that no coordinate or decimal number holds (not ``.`` or ``,``).
_JOIN = re.compile(r"(?<=\d)[\s/_\-·|~()]{1,3}(?=\d)")
_DECIMAL = re.compile(r"[+-]?\d{1,3}\.\d{4,}")  # a coordinate, not a phone number
_DATE = re.compile(r"(?:19|20)\d\d[-./](?:0?[1-9]|1[0-2])[-./](?:0?[1-9]|[12]\d|3[01])")
#: E-mail addresses in any width (a local part in ASCII or a Chinese name) (``＠`` is ``@`` after NFKC), spaces allowed
#: around ``@`` and the dots of the domain.
_EMAIL = re.compile(r"(?:[A-Za-z0-9._%+-]+|[\u3400-\u9fff]{1,4})\s?@\s?[A-Za-z0-9-]+"
                    r"(?:\s?\.\s?[A-Za-z0-9-]+)+")
#: Words always followed by a person's name (户主林平之), and words followed by one when a
#: colon, 是/为 or an opening bracket comes between (业主：黄蓉, 业主(黄蓉), but not
#: 业主委员会). Matched on :func:`~geo.inputs.disguise.simplified` text, so the traditional
#: forms (戶主, 聯繫人) count too.
_NAME_ALWAYS = ("户主", "联系人", "联络人", "姓名", "户名", "产权人", "承租人", "登记人", "申报人",
                "户主姓名")
_NAME_COLON = ("业主", "房主", "租户", "住户", "负责人", "居民", "本人", "家属", "亲属")
_OPEN = re.escape(OPEN_BRACKETS)
_PERSON = (r"([\u3400-\u9fff\U00020000-\U0003134f·•](?:\s?[\u3400-\u9fff\U00020000-\U0003134f·•]){0,3}"
           r"|[A-Za-z][A-Za-z'.-]*(?:\s[A-Za-z][A-Za-z'.-]*){0,2})")
_NAMED = re.compile(
    r"((?:" + "|".join(_NAME_ALWAYS) + r")\s*[:=]?\s*(?:是|为)?\s*[" + _OPEN + r"]?\s*"
    r"|(?:" + "|".join(_NAME_COLON) + r")\s*(?:[:=]|是|为|[" + _OPEN + r"])\s*[" + _OPEN + r"]?\s*"
    r"|(?<![A-Za-z])(?:name|owner|contact|resident|householder)\s*[:=]\s*[" + _OPEN + r"]?\s*)"
    + _PERSON, re.IGNORECASE)


def _normalised(text: str) -> str:
    return plain_text(text)


def _mask_names(text: str) -> tuple[str, int]:
    """Names after marker words masked; the markers are found in the simplified form of
    ``text`` and masked in ``text`` itself (one character for one, positions kept)."""
    key = simplified(text)
    out, last, hits = [], 0, 0
    for match in _NAMED.finditer(key):
        if match.group(2).startswith("*"):
            continue
        out.append(text[last:match.start(2)] + MASK)
        last = match.end(2)
        hits += 1
    return "".join(out) + text[last:], hits


def scrub_text(text: str) -> tuple[str, int]:
    """``text`` with personal data replaced by ``***``, and how many were replaced.

    The text is matched in plain form (:func:`geo.inputs.disguise.plain_text`): full-width,
    spaced-out, dash- or slash-split and zero-width-split numbers, traditional marker words
    and names in any bracket are found like their plain forms.
    """
    if not text:
        return text, 0
    plain = _normalised(text)
    hits = 0

    def mask(_match: re.Match) -> str:
        nonlocal hits
        hits += 1
        return MASK

    def mask_run(match: re.Match) -> str:
        nonlocal hits
        text = match.group(0)
        bare = text.strip()
        if sum(ch.isdigit() for ch in text) < 7 or _DATE.fullmatch(bare) or \
                _DECIMAL.fullmatch(bare):
            return text
        hits += 1
        return MASK

    out = _EMAIL.sub(mask, plain)
    out = _DIGIT_RUN.sub(mask_run, out)  # before IDs: an ID split after 15 digits is one run
    out = _ID.sub(mask, out)
    out, named = _mask_names(out)
    hits += named
    if not hits:
        return text, 0  # untouched text keeps its own (full-width) characters
    return out, hits


def contains_personal(text: str) -> bool:
    """Whether ``text`` unmistakably holds personal data: an ID number, a mobile or a
    landline with its area code, an e-mail address, a name after 户主/联系人/姓名 …
    (codes made of digits alone do not count; :func:`scrub_text` is broader)."""
    plain = _normalised(str(text))
    joined = _JOIN.sub("", plain)  # 138/0013_8000, 1 3800 138000 (not 116.3,39.9)
    return (any(p.search(text) for p in (_ID, _MOBILE, _LANDLINE) for text in (plain, joined))
            or _EMAIL.search(plain) is not None
            or _NAMED.search(simplified(plain)) is not None)


def cap(text: str, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters (with ``…``)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scrub_series(values: pd.Series, *, limit: int = MAX_LABEL) -> tuple[pd.Series, int, int]:
    """Scrub and cap every value of a text column.

    Returns ``(values, personal items replaced, values cut to length)``.
    """
    texts = values.astype(str).to_numpy()
    out = np.empty(len(texts), dtype=object)
    hits = cut = 0
    cache: dict[str, tuple[str, int]] = {}
    for k, text in enumerate(texts):
        if text not in cache:  # an endless cell is cut first (a few times the limit)
            cache[text] = scrub_text(text[: 4 * limit])
        clean, n = cache[text]
        hits += n
        if len(clean) > limit:
            clean = cap(clean, limit)
            cut += 1
        out[k] = clean
    return pd.Series(out, index=values.index, dtype=object), hits, cut


def shape_of(value: object, *, limit: int = 16) -> str:
    """What a cell looks like without what it says, for error messages: digits become
    ``9``, letters ``a``, other characters ``字`` (``'116.3E'`` → ``'999.9a'``)."""
    text = str(value).strip()
    shown = []
    for ch in _normalised(text)[:limit]:
        if ch.isdigit():
            shown.append("9")
        elif ch.isascii() and ch.isalpha():
            shown.append("a")
        elif ch.isascii() or ch in "°′″，。；：":
            shown.append(ch)
        else:
            shown.append("字")
    return "".join(shown) + ("…" if len(text) > limit else "")


def safe_label(name: object, *, limit: int = 30) -> str:
    """A column name as it may be quoted in a message: numbers and e-mail addresses
    scrubbed (a name pattern is a column's meaning here: ``户主姓名``), and short."""
    text = _EMAIL.sub(MASK, _normalised(str(name)))
    text = _DIGIT_RUN.sub(lambda m: MASK if sum(c.isdigit() for c in m.group(0)) >= 7
                          else m.group(0), _ID.sub(MASK, text))
    return cap(text, limit)


def column_list(columns, *, limit: int = 20) -> str:
    """A file's column names as they may be quoted in a message (scrubbed, short)."""
    names = [safe_label(c) for c in columns]
    return "、".join(names[:limit]) + (" …" if len(names) > limit else "")


def drop_free_text(frame: pd.DataFrame, fields: tuple[str, ...], *, keep: tuple[str, ...],
                   colmap: dict[str, str], notes: list, shown: str) -> pd.DataFrame:
    """``frame`` without the free-text ``fields`` not in ``keep``; a note names the file's
    columns that were left out (``note.input_free_text_dropped``)."""
    dropped = [f for f in fields if f not in keep and f in frame.columns]
    columns = [safe_label(colmap[f]) for f in dropped if f in colmap]
    if columns:
        notes.append(("note.input_free_text_dropped", {"path": shown,
                                                       "columns": "、".join(columns)}))
    return frame.drop(columns=dropped)


def privacy_note(notes: list, personal_columns, shown: str) -> tuple[str, dict] | None:
    """One structured note summing up, for the page and the command line, which columns
    were left out and how many values were scrubbed (``note.input_privacy``); ``None``
    when nothing was."""
    scrubbed = sum(int(p.get("count", 0)) for k, p in notes
                   if k == "note.input_personal_scrubbed")
    free = [c for k, p in notes if k == "note.input_free_text_dropped"
            for c in str(p["columns"]).split("、")]
    dropped = [safe_label(c) for c in personal_columns] + free
    if not dropped and not scrubbed:
        return None
    return ("note.input_privacy", {"path": shown, "columns": "、".join(dropped) or "—",
                                   "dropped": len(dropped), "scrubbed": scrubbed})


__all__ = ["MASK", "MAX_LABEL", "cap", "column_list", "contains_personal", "drop_free_text",
           "privacy_note", "safe_label", "scrub_series", "scrub_text", "shape_of"]
