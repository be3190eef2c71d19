"""The report's look: paper sizes, colours, the embedded CJK font, and clean text.

Chinese text is set in Noto Sans CJK SC, shipped by the pinned ``noto-cjk-sans-otc``
package (SIL Open Font License 1.1). That collection holds CFF (PostScript) outlines,
which matplotlib would embed as a TrueType (Type 42) font: poppler then warns "Mismatch
between font type and embedded font file" on every page. So the report embeds a subset
of the SC face made for the report's own characters, with its outlines converted to
TrueType quadratics (fontTools), under a family name of its own: searchable, copyable text,
a few hundred kB, and no warnings from ``pdffonts`` or ``pdftoppm``.

Text from data (area, community, grid and facility names) goes through :func:`clean`:
one line, no control characters, limited length. ``text.parse_math`` is off, so a name
such as ``$x^2$`` is printed as it is instead of being read as matplotlib maths.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import matplotlib

from analysis.area_names import clean  # noqa: F401 - the report's names
from geo.errors import InputError

PAPERS_IN = {"A4": (11.69, 8.27), "A3": (16.54, 11.69)}  # landscape, inches
PNG_DPI = 300
PDF_RASTER_DPI = 200  # dense layers (buildings, many households) are rasterised at this
DENSE = 4000  # more features than this are rasterised inside the PDF
CJK_FAMILY = "Noto Sans CJK SC"
SC_FACE = 2  # the SC face of the Noto Sans CJK collection
ROAD_STYLE = {"arterial": ("#d9a441", 1.6), "local": ("#b0b0b0", 0.8), "path": ("#cfcfcf", 0.4)}
BAND_COLOURS = ("#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada",
                "#80b1d3", "#fccde5", "#d9d9d9", "#ccebc5", "#ffed6f")
FLAG_COLOUR = "#e31a1c"
MINUTE_CLASSES = ((5, "#1a9850"), (10, "#91cf60"), (15, "#d9ef8b"))
OUTSIDE_COLOUR, UNREACHED_COLOUR = "#f46d43", "#7f7f7f"
BUILDING_COLOUR = "#dcd6cb"
_LOCK = threading.Lock()
#: matplotlib's settings (``rcParams``) are one per process, not per thread: a report made
#: while another thread leaves its :func:`report_style` would be written with the default
#: Type 3 fonts, and Type 3 cannot hold a CJK character ("bytes must be in range(0, 256)"
#: from the PDF writer). Everything drawn and written in the report's style holds this.
STYLE_LOCK = threading.RLock()


def text_width(text: str) -> float:
    """Width of ``text`` in ems (a CJK character is one em, Latin at most about 0.6)."""
    return sum(1.0 if ord(c) > 0x2E7F else 0.6 for c in text)


#: Marks that never start a line (Chinese line-breaking rules, 禁则).
NO_LINE_START = frozenset("，。、；：！？）」』】》〉％…,.;:!?)]%")


def wrap_at_most(text: str, width_em: float, lines: int) -> list[str]:
    """:func:`wrap`, at most ``lines`` lines; a text cut short ends in "…" (never cut
    mid-sentence without saying so)."""
    out = wrap(text, width_em)
    if len(out) <= lines:
        return out
    last = out[lines - 1]
    while last and text_width(last + "…") > width_em:
        last = last[:-1]
    return out[:lines - 1] + [last.rstrip() + "…"]


def wrap(text: str, width_em: float) -> list[str]:
    """Lines of at most ``width_em`` ems, breaking Latin text at spaces, CJK anywhere."""
    lines, line, width = [], "", 0.0
    for token in re.findall(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+\s*|\s+", text):
        w = text_width(token)
        # closing marks hang at the end of a line: no line starts with "，" or "）"
        if width + w > width_em and line.strip() and token[:1] not in NO_LINE_START:
            lines.append(line.rstrip())
            line, width = token.lstrip(), text_width(token.lstrip())
        else:
            line, width = line + token, width + w
    if line.strip():
        lines.append(line.rstrip())
    return lines


# ------------------------------------------------------------------------------ fonts


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """Path of the bundled Noto Sans CJK collection, registered with matplotlib.

    Raises
    ------
    InputError
        If the font package is missing (the message says how to install it).
    """
    from matplotlib import font_manager

    try:
        import noto_cjk_sans_otc
    except ImportError:
        raise InputError("err.report_no_font") from None
    path = str(noto_cjk_sans_otc.FONT_PATH)
    font_manager.fontManager.addfont(path)  # the last resort for a character the subset lacks
    return path


@lru_cache(maxsize=1)
def _font_dir() -> Path:
    """A private folder (mode 0700) for this process's font subsets, removed at exit."""
    import atexit
    import shutil

    path = Path(tempfile.mkdtemp(prefix="gridcircle_fonts_"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@lru_cache(maxsize=32)
def subset_font(chars: str) -> tuple[str, str]:
    """A TrueType subset of the SC face holding ``chars``: ``(path, family)``.

    The outlines are converted from cubic (CFF) to quadratic (glyf) curves, so the PDF
    declares and embeds the same kind of font.
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.subset import Options, Subsetter
    from fontTools.ttLib import TTFont, newTable

    digest = hashlib.sha1(chars.encode("utf-8")).hexdigest()[:12]
    family = f"Gridcircle CJK {digest}"
    path = _font_dir() / f"gridcircle-cjk-{digest}.ttf"
    if not path.exists():
        font = TTFont(cjk_font_path(), fontNumber=SC_FACE)
        options = Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.layout_features = []
        options.hinting = False
        subsetter = Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        order = font.getGlyphOrder()
        glyphs = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder, glyf.glyphs = order, {}
        for name in order:
            pen = TTGlyphPen(glyphs)
            glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        font["glyf"], font["loca"] = glyf, newTable("loca")
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in ("maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours",
                     "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                     "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                     "maxComponentElements", "maxComponentDepth"):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        font["head"].glyphDataFormat = 0
        font["post"].formatType = 3.0
        for tag in ("CFF ", "VORG"):
            if tag in font:
                del font[tag]
        font.sfntVersion = "\0\1\0\0"
        for record in font["name"].names:
            if record.nameID in (1, 4, 16):
                record.string = family
            elif record.nameID == 6:
                record.string = family.replace(" ", "")
        tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
        font.save(str(tmp))
        tmp.replace(path)
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return str(path), family


BASE_CHARS = ("".join(chr(c) for c in range(0x20, 0x7F))
              + "·–—…≤≥²³°×÷±→←↑↓§©®“”‘’「」『』（）【】《》，。、；：！？％…＋－＝～＃—·")


@contextmanager
def report_style(chars: str = ""):
    """matplotlib settings of the report: a TrueType subset of the CJK font holding
    ``chars`` (plus ASCII and common marks), no maths parsing. One thread at a time
    (:data:`STYLE_LOCK`): the settings are the process's."""
    cjk_font_path()
    wanted = "".join(sorted(set(BASE_CHARS) | set(chars)))
    with _LOCK:
        _, family = subset_font(wanted)
    with STYLE_LOCK, matplotlib.rc_context({
        "font.family": [family, "DejaVu Sans", CJK_FAMILY], "pdf.fonttype": 42, "ps.fonttype": 42,
        "axes.unicode_minus": False, "font.size": 9, "axes.titlesize": 13,
        "pdf.compression": 6, "text.parse_math": False,
    }):
        yield


__all__ = ["BAND_COLOURS", "STYLE_LOCK", "PAPERS_IN", "PNG_DPI", "clean", "cjk_font_path", "report_style",
           "subset_font", "text_width", "wrap"]
