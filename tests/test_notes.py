"""Issue 24 item 4: notes are keys with parameters, translated only where shown.

A note (:func:`geo.i18n.note`) is stored as it is (SUMMARY.json, saved projects) and shown
in the reader's language by :func:`geo.i18n.note_text`; an older version's note, one string
``中文 / English``, is read by :func:`geo.i18n.as_note`, the only code that cuts a message
at ``" / "``. No module defines or calls ``both(``."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from geo.i18n import AS_WRITTEN, BOTH, as_note, note, note_by_language, note_text, t

ROOT = Path(__file__).resolve().parents[1]
CODE = ([p for d in ("geo", "analysis", "ui") for p in (ROOT / d).rglob("*.py")]
        + sorted(ROOT.glob("*.py")))
TRANSLATION_MODULE = ROOT / "geo" / "i18n.py"
SLASH = " / "
CUTS = {"split", "rsplit", "partition", "rpartition"}


def _is_slash(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == SLASH


def glued_text_handling(source: str) -> list[str]:
    """Where ``source`` cuts a message at ``" / "`` (``.split(" / ")``, ``.partition(" / ")``,
    ``" / " in text``) or defines or calls ``both``. Joining numbers with ``" / "`` for a
    table cell (``" / ".join(...)``) is not a message and is not counted."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in CUTS and node.args and _is_slash(node.args[0])):
            found.append(f"{node.lineno}: .{node.func.attr}(' / ')")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in CUTS
              and any(k.arg == "sep" and _is_slash(k.value) for k in node.keywords)):
            found.append(f"{node.lineno}: .{node.func.attr}(sep=' / ')")
        elif (isinstance(node, ast.Compare) and _is_slash(node.left)
              and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)):
            found.append(f"{node.lineno}: ' / ' in text")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "both":
            found.append(f"{node.lineno}: def both")
        elif isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == "both")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "both")):
            found.append(f"{node.lineno}: both(...)")
        elif (isinstance(node, ast.ImportFrom)
              and any(alias.name == "both" for alias in node.names)):
            found.append(f"{node.lineno}: import both")
    return found


@pytest.mark.parametrize("source,flagged", [
    ('zh, en = text.split(" / ", 1)', True),
    ('zh, sep, en = text.partition(" / ")', True),
    ('parts = str(h).rsplit(sep=" / ")', True),
    ('if " / " in text:\n    pass', True),
    ('def both(key):\n    return key', True),
    ('line = both("note.x", count=1)', True),
    ('line = i18n.both("note.x")', True),
    ('from geo.i18n import both', True),
    ('cell = " / ".join(f"{v:.1f}" for v in values)', False),  # numbers in a table cell
    ('path = root / "data" / "i18n"', False),
    ('parts = text.split(" | ")', False),
    ('label = both_label(field, names)', False),
])
def test_the_check_finds_glued_text_handling_and_leaves_joins_of_numbers(source, flagged):
    assert bool(glued_text_handling(source)) is flagged


def test_no_module_but_the_translation_module_cuts_messages_at_a_slash_or_uses_both():
    found = [f"{p.relative_to(ROOT)}:{where}" for p in CODE if p != TRANSLATION_MODULE
             for where in glued_text_handling(p.read_text(encoding="utf-8"))]
    assert found == [], found
    # the translation module holds the one reader of older notes, and no both()
    inside = glued_text_handling(TRANSLATION_MODULE.read_text(encoding="utf-8"))
    assert inside and all("both" not in w for w in inside), inside


def test_a_note_renders_in_either_language_and_survives_json():
    made = note("note.walls_no_access", count=np.int64(2), ids="甲、乙")
    stored = json.loads(json.dumps(made, ensure_ascii=False))
    assert stored == {"key": "note.walls_no_access", "params": {"count": 2, "ids": "甲、乙"}}
    for lang in ("zh", "en"):
        assert note_text(stored, lang) == note_text(made, lang) == t(
            "note.walls_no_access", lang, count=2, ids="甲、乙")
    assert "没有已知出入口" in note_text(stored, "zh")
    assert note_text(stored, "en").startswith("2 compounds have no known gate")
    assert note_text(stored, BOTH) == f"{note_text(stored, 'zh')} / {note_text(stored, 'en')}"
    # a (key, params) pair, as the readers keep them, reads the same
    assert note_text(("note.walls_no_access", {"count": 2, "ids": "x"}), "en").startswith("2 ")


def test_a_note_worded_per_language_keeps_each_wording():
    made = note_by_language("note.walls_no_access", {"zh": {"count": 2, "ids": "甲、乙"},
                                                     "en": {"count": 2, "ids": "A, B"}})
    assert made["params"] == {"count": 2, "ids": {"zh": "甲、乙", "en": "A, B"}}
    stored = json.loads(json.dumps(made))
    assert note_text(stored, "zh").endswith("甲、乙。")
    assert note_text(stored, "en").endswith(": A, B.") and "甲" not in note_text(stored, "en")


OLD_ZH = "3 个住宅单元没有住户，已保留。"
OLD_EN = "3 units hold no households and are kept."


def test_an_older_glued_note_reads_one_half_per_language():
    glued = f"{OLD_ZH} / {OLD_EN}"
    assert as_note(glued)["key"] == AS_WRITTEN
    assert note_text(glued, "zh") == OLD_ZH and note_text(glued, "en") == OLD_EN
    assert note_text(json.loads(json.dumps(as_note(glued))), "en") == OLD_EN
    # text that is not two halves (a path, a name with a slash) is shown as it is
    assert note_text("A / B", "zh") == "A / B" == note_text("A / B", "en")
    assert note_text("只有中文", "en") == "只有中文"
    assert note_text(None, "zh") == "" and note_text(float("nan"), "en") == ""


def test_an_older_saved_project_with_glued_notes_shows_each_language(small_district, tmp_path):
    from analysis import project as pj
    from analysis.export_words import localise
    from analysis.pipeline import run

    project = pj.project_from_result(run(small_district))
    path = tmp_path / "old.gpkg"
    pj.save(project, path)
    new_notes = pj.open_project(path).summary["notes"]
    assert new_notes and all(isinstance(n, dict) and "key" in n for n in new_notes)
    # as an older version saved it: the summary's notes glued 中文 / English
    with sqlite3.connect(path) as db:
        (value,) = db.execute(f"SELECT value FROM {pj.META_TABLE} WHERE key = 'summary'").fetchone()
        summary = json.loads(value)
        summary["notes"] = [f"{OLD_ZH} / {OLD_EN}"] + [note_text(n, BOTH) for n in new_notes]
        db.execute(f"UPDATE {pj.META_TABLE} SET value = ? WHERE key = 'summary'",
                   (json.dumps(summary, ensure_ascii=False),))
    notes = pj.open_project(path).summary["notes"]
    assert [note_text(n, "zh") for n in notes] == [OLD_ZH] + [note_text(n, "zh") for n in new_notes]
    assert [note_text(n, "en") for n in notes] == [OLD_EN] + [note_text(n, "en") for n in new_notes]
    # an older journal's warnings (glued, joined by " | ") read in one language too
    journal = localise("journal", _old_journal(), "en")
    assert journal["warnings"].iloc[0] == f"{OLD_EN} | {OLD_EN}"


def _old_journal():
    import pandas as pd

    return pd.DataFrame({"seq": [1], "warnings": [f"{OLD_ZH} / {OLD_EN} | {OLD_ZH} / {OLD_EN}"]})


def test_the_summary_of_a_run_holds_notes_as_keys(small_district):
    from analysis.pipeline import run

    summary = run(small_district).summary
    stored = json.loads(json.dumps(summary["notes"], ensure_ascii=False))
    assert stored and all(set(n) == {"key", "params"} for n in stored)
    assert stored[0]["key"].startswith("completeness.")
    for n in stored:
        zh, en = note_text(n, "zh"), note_text(n, "en")
        assert zh and en and zh != en and SLASH not in zh


def test_an_error_carries_its_message_as_a_note():
    from analysis.batch.task import error_line
    from geo.errors import InputError

    err = InputError("err.file_missing", path=Path("a/缺.osm"))
    assert note_text(err.note(), "zh") == err.message("zh") and "缺.osm" in err.message("zh")
    assert note_text(err.note(), "en") == err.message("en") == str(err)
    assert err.bilingual() == f"{err.message('zh')} / {err.message('en')}" == error_line(err.note())
    assert error_line("ValueError: x", "en") == "ValueError: x"  # a bug's text, as it is
