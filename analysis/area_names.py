"""How an area and the names in it are printed: the area's name as a report or the page
names it (the planner's name, a demo's, else its largest community) and any text from
data cleaned to one short line. Light on purpose: the page asks for the area's name at
its first render, without loading the report's drawing (matplotlib)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.project import Project
from analysis.projectstate import area_source_of, area_title
from geo.grids.reasons import name_text
from geo.i18n import t

MAX_NAME = 40  # characters of a name from data shown anywhere in the report

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # shown as a space
# format characters (zero-width, direction marks, the byte-order mark, which the PDF text
# layout loses) and lone surrogates (not text: they cannot be encoded): dropped
_FORMAT = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff]")


def clean(value: object, limit: int = MAX_NAME) -> str:
    """Text from data as printed: one line, no control characters, at most ``limit``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = " ".join(_CONTROL.sub(" ", _FORMAT.sub("", str(value)[: limit * 4])).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def area_name(project: Project, lang: str) -> str:
    """The area as the report names it: the name the planner gave it (``meta["area_name"]``,
    saved with the project), a demo by its name, else the area's largest community (a
    file's name means nothing to a committee), else the file's name."""
    label = clean(project.meta.get("area_name"), 60)
    if label:
        return label
    source = area_source_of(project.meta)
    if source and source.get("kind") in ("demo", "place"):  # names people know
        return area_title(source, lang)
    largest = largest_community_name(project.layers.get("communities"), lang)
    return largest or area_title(source, lang) or str(project.meta.get("area", ""))


def largest_community_name(comms, lang: str) -> str:
    """The name of the community holding the most households ("" when none is named)."""
    if not isinstance(comms, pd.DataFrame) or not len(comms) or "name" not in comms:
        return ""
    order = (comms.sort_values("households", ascending=False, kind="stable")
             if "households" in comms else comms)
    keys = order["name_key"] if "name_key" in order else pd.Series("", index=order.index)
    for cid, name, key in zip(order["community_id"].astype(str), order["name"], keys):
        derived = isinstance(key, str) and bool(key)  # already "X 一带" (around X)
        shown = clean(name_text(key, lang) if derived else name, 40)
        if shown and shown != cid:
            return shown if derived else t("report.area_around", lang, name=shown)
    return ""
