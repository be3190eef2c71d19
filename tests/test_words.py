"""Issue 27 item 7: every message in both languages reads right.

Every entry of ``data/i18n/*.csv`` is rendered with sample parameters (counts of 1 and of
2), and so are the messages of a real run (its notes and the grids' reasons), and each is
checked for raw translation keys, placeholders left open, full-width punctuation or Chinese
in English, ASCII punctuation inside Chinese sentences and English plurals after a count
of one."""

from __future__ import annotations

import re
import string

import pytest

from geo.i18n import t, table

FULL_WIDTH = re.compile(r"[，。；：！？（）、「」『』【】《》\u3000]")
CJK = re.compile(r"[\u3400-\u9fff]")
# ASCII punctuation touching a Chinese character on either side: "住户,共" or "户;"
ASCII_IN_ZH = re.compile(r"(?<=[\u3400-\u9fff])[,;!?]|[,;!?](?=[\u3400-\u9fff])"
                         r"|(?<=[\u3400-\u9fff])[:](?=[\u3400-\u9fff\s])")
PLURAL_AFTER_ONE = re.compile(r"(?<![\d.,–-])\b1 ([a-z]+ )?(facilities|households|grids|compounds|gates|"
                              r"buildings|changes|communities|blocks|services|points|rows|gaps|"
                              r"units|edits|files|parts|sites)\b")
NUMERIC = re.compile(r"^(count|n|k|households|grids|buildings|compounds|blocks|nodes|rows|"
                     r"mapped|inferred|added|assumed|dormitories|campus|unknown|total|low|high|"
                     r"first|second|short|edits|revision|parts|pages|shown|limit|max|min|"
                     r"position|services|minutes|seconds|s|p|size|gates|units|ways|points|"
                     r"cells|candidates|facilities|closed|opened|people|workers)$")


#: English messages that name the Chinese column headers a table may use (经度, 户数 …).
COLUMN_NAMES = {"err.facility_no_type", "err.population_no_column", "err.table_no_coords",
                "err.table_no_header", "err.table_no_households", "capacity.none",
                "err.roster_columns", "note.input_unmatched_rows"}


def placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def sample(name: str, lang: str, number: int) -> object:
    if NUMERIC.match(name):
        return number
    return "Sample"  # names from data: what matters is the words around them


def rendered(number: int):
    for key, row in table().items():
        names = set(placeholders(row["zh"])) | set(placeholders(row["en"]))
        for lang in ("zh", "en"):
            try:
                text = t(key, lang, **{n: sample(n, lang, number) for n in names})
            except (KeyError, IndexError, ValueError) as exc:
                raise AssertionError(f"{key} ({lang}) does not render: {exc}") from exc
            yield key, lang, text


def problems(key: str, lang: str, text: str, keys: set[str]) -> list[str]:
    out = []
    if "{" in text or "}" in text:
        out.append("placeholder left open")
    raw = [w for w in re.findall(r"\b[a-z_]+\.[a-z_][\w.]*\b", text) if w in keys]
    if raw:
        out.append(f"raw key {raw[0]}")
    if lang == "en":
        if FULL_WIDTH.search(text):
            out.append(f"full-width {FULL_WIDTH.search(text).group(0)!r}")
        if CJK.search(re.sub(r"[\u3400-\u9fff]+(?=[ /)]|$)(?<! )", "", text) if key in
                         COLUMN_NAMES else text):
            out.append("Chinese in English")
        if "(s)" in text:
            out.append("'(s)': a count says which")
        if PLURAL_AFTER_ONE.search(text):
            out.append(f"plural after one: {PLURAL_AFTER_ONE.search(text).group(0)!r}")
    elif ASCII_IN_ZH.search(text):
        m = ASCII_IN_ZH.search(text)
        out.append(f"ASCII punctuation in Chinese: {text[max(0, m.start() - 6):m.end() + 6]!r}")
    return out


def test_every_table_entry_reads_right_in_both_languages():
    keys = set(table())
    bad = [f"{key} [{lang}]: {p}" for number in (1, 2) for key, lang, text in rendered(number)
           for p in problems(key, lang, text, keys)]
    assert not bad, "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("text,wrong", [
    ("1 facilities were found", True), ("2 facilities were found", False),
    ("1 gate changes applied", True), ("住户,共", True), ("住户，共", False),
    ("Households，total", True), ("reach_and_areas_wall", False)])
def test_the_checks_can_fail(text, wrong):
    lang = "zh" if CJK.search(text) and "Households" not in text else "en"
    assert bool(problems("x", lang, text, {"step.x"})) is wrong
    assert problems("x", "en", "see step.x", {"step.x"})  # a raw key


def test_counts_of_one_take_the_singular():
    assert t("gates.saved", "en", count=1).startswith("1 gate change applied")
    assert t("gates.saved", "en", count=2).startswith("2 gate changes applied")
    text = t("note.input_unknown_types", "en", count=1, path="a.csv", types="x")
    assert text.startswith("1 facility in a.csv has a type") and "was not imported" in text


def test_messages_of_a_real_run_read_right(small_district):
    from analysis.pipeline import run
    from geo.grids.reasons import reason_text
    from geo.i18n import note_text

    result = run(small_district)
    keys = set(table())
    bad = []
    notes = result.summary.get("notes") or []
    assert notes
    for note in notes:
        for lang in ("zh", "en"):
            text = note_text(note, lang)
            bad += [f"note [{lang}] {text[:60]!r}: {p}" for p in problems("note", lang, text, keys)]
    grids = result.layers.get("grids")
    for reason in (grids["reason"] if grids is not None and "reason" in grids else []):
        for lang in ("zh", "en"):
            text = reason_text(reason, lang)
            bad += [f"reason [{lang}] {text[:60]!r}: {p}" for p in problems("r", lang, text, keys)]
    for key, value in (result.summary.get("timings_s") or {}).items():
        assert f"step.{key}" in keys or key in ("index",), key
    assert not bad, "\n".join(bad[:30])


def test_lists_joined_the_chinese_way_read_with_english_punctuation():
    text = t("note.input_unmatched_names", "en", names="甲、乙；丙（东）")
    assert not FULL_WIDTH.search(text) and "甲, 乙; 丙 (东)" in text
    assert "甲、乙" in t("note.input_unmatched_names", "zh", names="甲、乙")
