"""Every string the page shows is in the translation table, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from geo.catalogue import load_catalogue
from geo.demos import DEMOS
from geo.i18n import table
from ui import uploads

ROOT = Path(__file__).resolve().parents[2]
LITERAL = re.compile(r"""\bt\(\s*["']([a-z_]+\.[\w.]+)["']""")


def test_every_literal_key_used_by_the_page_exists():
    known = table()
    files = [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py"))]
    used = {key for path in files for key in LITERAL.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 80
    assert sorted(used - set(known)) == []


def test_every_key_built_from_a_name_exists():
    known = table()
    built = [f"icon.{s.key}" for s in load_catalogue()]
    built += [f"demo.{d}" for d in DEMOS]
    built += [f"page.crs_{c}" for c in uploads.CRS_CHOICES]
    built += [f"page.source_{k}" for k in ("demo", "osm", "place")]
    built += [f"page.upload_{k}" for k in uploads.LAYER_KINDS]
    built += [f"page.upload_{k}_help" for k in uploads.LAYER_KINDS]
    built += [f"map.band_{k}" for k in ("below", "in", "above")]
    built += [f"map.basemap_{b}" for b in ("offline", "osm")]
    built += [f"page.tab_{k}" for k in ("coverage", "grids", "heat", "gaps", "siting", "notes")]
    assert [k for k in built if k not in known] == []
