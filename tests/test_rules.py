"""House rules that a test can check: import direction, translations."""

import ast
import re
from pathlib import Path

from geo.i18n import LANGUAGES, table

ROOT = Path(__file__).resolve().parents[1]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit_and_geo_never_imports_analysis():
    for package in ("geo", "analysis"):
        for path in (ROOT / package).rglob("*.py"):
            used = imports(path)
            assert "streamlit" not in used and "streamlit_folium" not in used, path
            if package == "geo":
                assert "analysis" not in used and "ui" not in used, path


def test_every_translation_has_both_languages_and_used_keys_exist():
    strings = table()
    for key, texts in strings.items():
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        assert re.findall(r"{(\w+)}", texts["zh"]) == re.findall(r"{(\w+)}", texts["en"]) or \
            set(re.findall(r"{(\w+)}", texts["zh"])) == set(re.findall(r"{(\w+)}", texts["en"])), key
    pattern = re.compile(r"""(?:\bt|\bnote|note_by_language|Error|message)\(\s*f?["']((?:err|note|step|app|map|cli|demo)\.[\w.]+)["']""")
    for path in list(ROOT.glob("*.py")) + [p for d in ("geo", "analysis", "ui") for p in (ROOT / d).rglob("*.py")]:
        for key in pattern.findall(path.read_text(encoding="utf-8")):
            assert key in strings, f"{path.name}: {key} missing from data/i18n"


def test_page_upload_limit_matches_the_readers_limit():
    import tomllib

    from geo.settings import InputLimits

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == InputLimits().max_file_mb
