"""Choice widgets that keep their value when their labels change.

Streamlit 1.67 stores a selectbox's, radio's or multiselect's value as the *label* of the
chosen option (what ``format_func`` made of it). When the labels change — the reader
switches language, or a grid's label shows its new household count after an edit — the
stored label no longer names an option: the selectbox returns the old label itself
(``没有名为 赫尔辛基（真实 OSM 数据） 的示例``), the radio shows nothing selected and the
multiselect drops the services chosen.

The wrappers here restate the value by its option (a stable key such as ``"helsinki"``
or ``"C01-03"``) before the widget is drawn, while Streamlit can still read it with the
labels of the previous run; so a widget is keyed by its stable key and its value, never
by its label. Their placeholders are translated too (Streamlit's own are English).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from geo.i18n import t


def carry(key: str, options: Sequence[Any], *, multi: bool = False) -> bool:
    """Restate the value of the choice widget ``key`` by its option before it is drawn.

    Returns True when the session holds a value for it (the widget must then be drawn
    without ``index``/``default``); a value that is no longer an option is dropped.
    """
    if key not in st.session_state:
        return False
    value = st.session_state[key]
    known = list(options)
    if multi:
        st.session_state[key] = [v for v in (value or []) if v in known]
        return True
    if value in known:
        st.session_state[key] = value
        return True
    del st.session_state[key]
    return False


def selectbox(label: str, options: Sequence[Any], *, key: str, lang: str,
              format_func: Callable[[Any], str] = str, index: int = 0,
              where: Any = None, **kwargs: Any) -> Any:
    """``st.selectbox`` keyed by option, with a translated placeholder."""
    where = where if where is not None else st
    options = list(options)
    kwargs.setdefault("placeholder", t("page.choose_one", lang))
    if not carry(key, options):
        kwargs["index"] = index if options else None
    return where.selectbox(label, options, key=key, format_func=format_func, **kwargs)


def radio(label: str, options: Sequence[Any], *, key: str,
          format_func: Callable[[Any], str] = str, index: int = 0,
          where: Any = None, **kwargs: Any) -> Any:
    """``st.radio`` keyed by option (one option stays selected across a language switch)."""
    where = where if where is not None else st
    options = list(options)
    if not carry(key, options):
        kwargs["index"] = index
    return where.radio(label, options, key=key, format_func=format_func, **kwargs)


def multiselect(label: str, options: Sequence[Any], *, key: str, lang: str,
                format_func: Callable[[Any], str] = str, default: Sequence[Any] = (),
                where: Any = None, **kwargs: Any) -> list:
    """``st.multiselect`` keyed by option, with a translated placeholder and no
    (untranslatable) "Select all" row."""
    where = where if where is not None else st
    options = list(options)
    kwargs.setdefault("placeholder", t("page.choose_many", lang))
    kwargs.setdefault("select_all", False)
    if not carry(key, options, multi=True):
        kwargs["default"] = [d for d in default if d in options]
    return where.multiselect(label, options, key=key, format_func=format_func, **kwargs)


_MARKDOWN = re.compile(r"([\\`*_\[\]()!$<>#|~:])")


def plain(text: object) -> str:
    """``text`` for Streamlit's markdown elements (captions, alerts, metric labels) shown
    as it is: markdown, maths (``$…$``), links, images, emoji codes and HTML-looking text
    from data or users escaped. The translation table holds no markdown, so whole
    messages can go through it."""
    return _MARKDOWN.sub(r"\\\1", "" if text is None else str(text))


def uploader_css(lang: str) -> str:
    """CSS that replaces the file uploader's fixed English words ("Drag and drop",
    "Upload", "200MB per file") with the reader's language; Streamlit offers no
    argument for them. The limit shown is the server's ``maxUploadSize``."""
    limit = st.get_option("server.maxUploadSize")
    button = t("page.upload_button", lang).replace('"', "")
    limit_text = t("page.upload_limit", lang, mb=limit).replace('"', "")
    return (
        "<style>"
        '[data-testid="stFileUploaderDropzoneInstructions"] span{font-size:0}'
        '[data-testid="stFileUploaderDropzoneInstructions"] span::before{'
        f'content:"{limit_text}";font-size:0.8rem}}'
        '[data-testid="stFileUploaderDropzone"] button{font-size:0}'
        '[data-testid="stFileUploaderDropzone"] button span{display:none}'
        '[data-testid="stFileUploaderDropzone"] button::after{'
        f'content:"{button}";font-size:0.875rem}}'
        "</style>")


__all__ = ["carry", "multiselect", "plain", "radio", "selectbox", "uploader_css"]
