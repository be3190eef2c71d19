"""Undoing the disguises personal data wears before it is matched (issue 26 items 1-3).

A phone number split by a no-break space, ``／``, ``_``, ``‐`` (U+2010), ``−`` (U+2212), a
zero-width space or ``，``; a name after ``戶主`` or ``聯繫人`` (traditional script) or in
``【】``; an e-mail with ``＠``: each is the same data as its plain form. :func:`plain_text`
brings text to that plain form (Unicode NFKC, every space one space, every dash ``-``,
invisible format characters removed) and :func:`simplified` maps the traditional characters
of the words that introduce personal data to their simplified forms, keeping every
character's position (so matches found in one can be masked in the other).
"""

from __future__ import annotations

import re
import unicodedata

#: Opening and closing brackets and quotes of every kind after NFKC.
OPEN_BRACKETS = "([{<（［｛＜【〔〖〘〚「『《〈‹«“‘\"'"
CLOSE_BRACKETS = ")]}>）］｝＞】〕〗〙〛」』》〉›»”’\"'"
#: Traditional (and Japanese) forms of the characters in words that introduce personal
#: data (户主, 联系人, 负责人 …) and in personal column names (电话, 身份证 …).
_TRADITIONAL = dict(zip(
    "戶戸聯繫係絡產權記報業責屬負證護號碼機話電郵齡別貫銀車單間為們稱樓棟區鄉鎮親屬當與際聲訊",
    "户户联系系络产权记报业责属负证护号码机话电邮龄别贯银车单间为们称楼栋区乡镇亲属当与际声讯"))
_T2S = str.maketrans(_TRADITIONAL)


#: Unicode's space separators (Zs, Zl, Zp) and the control characters that break lines.
SPACES = ("\t\n\v\f\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
          "\u205f\u3000")
#: Unicode's dash punctuation (Pd) other than ``-``, and other dash-like characters.
DASHES = ("\u058a\u05be\u1400\u1806\u2010-\u2015\u2043\u2212\u2796\u2e17\u2e1a\u2e3a"
          "\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead")
#: Invisible format characters (Unicode Cf: zero-width spaces and joiners, soft hyphens,
#: direction marks, tags) and the combining grapheme joiner.
INVISIBLE = ("\xad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
             "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
             "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
             "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_SPACE = re.compile(f"[{SPACES}]")
_DASH = re.compile(f"[{DASHES}]")
_INVISIBLE = re.compile(f"[{INVISIBLE}]+")


def plain_text(text: str) -> str:
    """``text`` in plain form: NFKC (full-width digits, ``＠``, ``／``, ``，`` become their
    ASCII forms), every kind of space ``' '``, every dash ``'-'``, invisible characters
    removed."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return _DASH.sub("-", _SPACE.sub(" ", text))


def simplified(text: str) -> str:
    """``text`` with the traditional characters of personal marker words simplified
    (one character for one, so positions are kept)."""
    return text.translate(_T2S)


__all__ = ["CLOSE_BRACKETS", "DASHES", "INVISIBLE", "OPEN_BRACKETS", "SPACES", "plain_text",
           "simplified"]
