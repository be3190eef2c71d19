"""The sidebar: language, the area and its uploads, and every setting with its default shown.

Widgets only collect values; they return frozen objects (:class:`PageSettings`, a
``RunSettings``) that key the caches in :mod:`ui.state`, so a change re-runs only what
depends on it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import streamlit as st

from analysis.pipeline import RunSettings
from analysis.settings import WalkSettings, load_profiles
from geo.catalogue import Service, load_catalogue
from geo.demos import DEMOS, demo_name
from geo.errors import GridcircleError
from geo.i18n import t
from geo.settings import HouseholdSettings
from geo.vocabulary import DEFAULT_BAND
from ui import lazy, state, uploads, widgets
from ui.gates_panel import wall_settings

THRESHOLD_CHOICES = (5, 10, 15, 20, 30)


def minutes_option(minutes: float) -> int | float:
    """A threshold as the threshold choice boxes hold it: whole minutes as ``int`` (15,
    not 15.0, whose label "15.0" names no option), others as they are (12.5)."""
    value = float(minutes)
    return int(value) if value.is_integer() else value


DEFAULT_SHOWN = ("health",)
BASE_SETTINGS_KEY = "gc_base_settings"  # an opened project's settings (ui.session sets it)
UPLOADS_OPEN = "gc_uploads_open"  # whether the uploads' expander is open (ui/lazy.py)
HOUSEHOLDS_OPEN = "gc_households_open"  # whether the household model's is


@dataclass(frozen=True)
class PageSettings:
    """What the page shows, on top of the run's settings."""

    lang: str
    source: state.Source
    uploads: state.Uploads
    run: RunSettings
    services: tuple[str, ...]
    band: tuple[int, int]
    basemap: str


@st.cache_resource(show_spinner=False)
def catalogue() -> tuple[Service, ...]:
    return load_catalogue()


def language() -> str:
    """The reader's language: 中文 unless the English toggle is on."""
    return "en" if st.sidebar.toggle("English", value=False, key="lang_en") else "zh"


def current_language() -> str:
    """The language chosen on this run (after :func:`language` has drawn the toggle)."""
    return "en" if st.session_state.get("lang_en") else "zh"


def demo_label(demo: str, lang: str) -> str:
    """A demo's name (``synthetic:N`` as the synthetic district of N households)."""
    return demo_name(demo, lang)


def area_source(lang: str) -> state.Source | None:
    """The study area's source from the sidebar (None until a file or name is given)."""
    side = st.sidebar
    side.header(t("page.area", lang))
    kinds = ("demo", "osm", "place")
    kind = widgets.radio(t("page.source", lang), kinds, key="source_kind", where=side,
                         format_func=lambda k: t(f"page.source_{k}", lang))
    if kind == "demo":
        # ``?demo=synthetic:100000`` in the address opens another size of the synthetic
        # district (bookmarks, benchmarks); an unknown name is reported when it loads.
        asked = str(st.query_params.get("demo", "")).strip().lower()
        choices = DEMOS + ((asked,) if asked and asked not in DEMOS else ())
        demo = widgets.selectbox(t("app.demo", lang), choices, where=side, lang=lang,
                                 index=choices.index(asked) if asked else 0, key="demo",
                                 format_func=lambda d: demo_label(d, lang))
        return state.Source("demo", demo, demo)
    if kind == "osm":
        file = side.file_uploader(t("page.osm_file", lang), key="osm_file",
                                  type=uploads.UPLOAD_TYPES["osm"],
                                  help=t("page.osm_file_help", lang))
        if file is None:
            side.info(t("page.osm_file_wait", lang))
            return None
        saved = state.save_upload(file.name, file.getvalue())
        return state.Source("osm", saved.sha256, file.name)
    place = side.text_input(t("page.place", lang), key="place",
                            placeholder=t("page.place_hint", lang))
    if not place.strip():
        side.info(t("page.place_wait", lang))
        return None
    return state.Source("place", place.strip(), place.strip())


def layer_uploads(lang: str, source: state.Source | None) -> state.Uploads:
    """The optional uploaded layers; each is checked at once and a bad one is shown as one
    message beside its uploader and left out of the run. Footprints and compound outlines
    are checked first: a register is checked against the area with them put in (its rows
    may name an uploaded compound)."""
    chosen, slots = {}, {}
    kinds = uploads.LAYER_KINDS + uploads.COUNT_KINDS
    lazy.keep(*(f"crs_{kind}" for kind in kinds))
    box, is_open = lazy.expander(t("page.uploads", lang), key=UPLOADS_OPEN,
                                 where=st.sidebar)
    # drawn while open, and while it holds a file (an uploader not drawn drops its file)
    if not is_open and not any(st.session_state.get(f"up_{kind}") for kind in kinds):
        return state.Uploads()
    with box:
        for kind in kinds:
            file = st.file_uploader(t(f"page.upload_{kind}", lang), key=f"up_{kind}",
                                    type=uploads.UPLOAD_TYPES[kind],
                                    help=t(f"page.upload_{kind}_help", lang))
            crs = None
            if kind not in ("communities", "household_totals"):
                crs = widgets.selectbox(t("page.crs", lang), uploads.CRS_CHOICES,
                                        key=f"crs_{kind}", lang=lang,
                                        format_func=lambda c: t(f"page.crs_{c}", lang))
                crs = None if crs == "auto" else crs
            slots[kind] = st.container()
            if file is None or source is None:
                continue
            chosen[kind] = state.save_upload(file.name, file.getvalue(), crs=crs)
    order = sorted(chosen, key=lambda k: k not in ("buildings", "compounds"))
    checked = {}
    for kind in order:
        put_in = {k: checked[k] for k in ("buildings", "compounds") if k in checked}
        # read as the run reads it (analysis.assembly): against the uploaded footprints
        footprints = (state.Uploads(**put_in) if kind not in ("buildings", "compounds",
                                                             "household_totals") and put_in
                      else None)
        with slots[kind]:
            if _checked(kind, chosen[kind], source, lang, footprints=footprints):
                checked[kind] = chosen[kind]
    return state.Uploads(**{k: checked[k] for k in uploads.LAYER_KINDS + uploads.COUNT_KINDS
                            if k in checked})


def _checked(kind: str, upload: state.Upload, source: state.Source, lang: str, *,
             footprints: state.Uploads | None) -> bool:
    """Read one upload and say how it was read; ``False`` (with one message) if unusable."""
    try:
        if kind in uploads.COUNT_KINDS:  # read like --population / --household-totals
            read = state.counts_for(kind, upload, source, footprints)
        else:
            read = state.layer_for(kind, upload, source, footprints=footprints)
    except GridcircleError as exc:
        st.error(widgets.plain(state.user_message(exc, lang)))
        return False
    if kind in uploads.COUNT_KINDS:
        notes = () if kind == "household_totals" else read.notes  # a table has none
        for key, params in notes:
            st.warning(widgets.plain(t(key, lang, **params)))
        rows = len(read) if kind == "household_totals" else len(read.cells)
        st.caption(t("page.upload_ok", lang, rows=rows))
        return True
    for message in read.messages(lang):
        st.warning(widgets.plain(message))
    if read.suggested_crs:
        st.warning(widgets.plain(t("page.suggested_crs", lang, crs=read.suggested_crs)))
    dropped = read.dropped_personal_columns
    if dropped:
        st.info(widgets.plain(t("page.dropped_personal", lang,
                                columns="、".join(map(str, dropped)))))
    st.caption(t("page.upload_ok", lang, rows=len(read.frame)))
    return True


#: the household model's settings the sidebar shows (an opened project's come back into them)
HOUSEHOLD_WIDGETS = ("dwelling_m2", "default_levels", "compound_far", "include_dormitories",
                     "persons_per_household")

def run_settings(lang: str, services: tuple[Service, ...]) -> tuple[RunSettings, tuple[int, int]]:
    """The run's settings from the sidebar, each part built by its own frozen dataclass
    (which validates it)."""
    parts: dict = {}
    side = st.sidebar
    # An opened project's settings that have no widget (the snapping distance, minute
    # levels, the grids' work budget, ...) are kept as the file has them.
    held = st.session_state.get(BASE_SETTINGS_KEY)
    base = held if isinstance(held, RunSettings) else RunSettings()

    with side.expander(t("page.walking", lang), expanded=True):
        parts["walk"] = _walk_settings(lang, services, base.walk)

    with side.expander(t("page.grid_band", lang), expanded=True):
        held_band = st.session_state.get("band")  # an opened project's, whatever its size
        low, high = (int(held_band[0]), int(held_band[1])) if isinstance(
            held_band, (tuple, list)) and len(held_band) == 2 else DEFAULT_BAND
        band = tuple(st.slider(t("page.band", lang), min_value=min(50, low),
                               max_value=max(1000, high),
                               value=DEFAULT_BAND, step=10, key="band",
                               help=t("page.band_help", lang)))
    parts["grids"] = dataclasses.replace(base.grids, min_households=int(band[0]),
                                         max_households=int(band[1]))

    defaults = HouseholdSettings()
    # drawn only while open (ui/lazy.py); closed, its values are the ones kept
    lazy.keep(*HOUSEHOLD_WIDGETS)
    box, is_open = lazy.expander(t("page.household_model", lang), key=HOUSEHOLDS_OPEN,
                                 where=side)
    if is_open:
        with box:
            def number(name: str, low, high, step, **more):
                return st.number_input(t(f"page.{name}", lang), low, high,
                                       lazy.given(name, getattr(defaults, name)), step,
                                       key=name, **more)

            model = dict(
                dwelling_m2=number("dwelling_m2", 20.0, 500.0, 5.0),
                default_levels=number("default_levels", 1, 100, 1),
                compound_far=number("compound_far", 0.1, 10.0, 0.1),
                include_dormitories=st.checkbox(t("page.include_dormitories", lang),
                                                defaults.include_dormitories,
                                                key="include_dormitories",
                                                help=t("page.include_dormitories_help", lang)),
                persons_per_household=number(
                    "persons_per_household", 1.0, 10.0, 0.01,
                    help=t("page.persons_per_household_help", lang)))
    else:
        model = {name: st.session_state.get(name, getattr(defaults, name))
                 for name in HOUSEHOLD_WIDGETS}
    model["default_levels"] = int(model["default_levels"])
    parts["households"] = dataclasses.replace(base.households, **model)
    parts["walls"] = wall_settings()  # the planner's gate edits (ui/gates_panel.py)
    parts["capacity"] = base.capacity  # no widget: an opened project's method and decay
    return RunSettings(**parts), band


def _walk_settings(lang: str, services: tuple[Service, ...], base: WalkSettings) -> WalkSettings:
    profiles = load_profiles()
    default = base
    speeds = {}
    for profile in profiles:
        name = profile.name_zh if lang == "zh" else profile.name_en
        speeds[profile.key] = st.number_input(
            t("page.speed_of", lang, profile=name), 0.3, 3.0, float(profile.speed_mps), 0.05,
            key=f"speed_{profile.key}", format="%.2f", help=profile.source)
    everyone = widgets.selectbox(
        t("page.walk_profile", lang), ("catalogue", *[p.key for p in profiles]),
        key="walk_profile", lang=lang,
        format_func=lambda k: t("page.walk_profile_catalogue", lang) if k == "catalogue" else
        next(p.name_zh if lang == "zh" else p.name_en for p in profiles if p.key == k))
    st.caption(t("page.thresholds", lang))
    thresholds = {}
    for service in services:
        usual = minutes_option(dict(default.thresholds_min).get(service.key,
                                                                service.threshold_min))
        held = st.session_state.get(f"thr_{service.key}")  # an opened project's, kept as is
        extra = {minutes_option(held)} if isinstance(held, (int, float)) else set()
        options = sorted(set(THRESHOLD_CHOICES) | {usual} | extra)
        thresholds[service.key] = float(widgets.selectbox(
            service.name(lang), options, index=options.index(usual), lang=lang,
            key=f"thr_{service.key}", help=service.source))
    service_profiles = dict(default.service_profiles)
    if everyone != "catalogue":
        service_profiles = {key: everyone for key in service_profiles}
    return dataclasses.replace(default, speeds_mps=tuple(speeds.items()),
                               thresholds_min=tuple(thresholds.items()),
                               service_profiles=tuple(service_profiles.items()))


def shown_services(lang: str, services: tuple[Service, ...]) -> tuple[str, ...]:
    """Which services' circles and gaps the map and charts show."""
    keys = [s.key for s in services]
    names = {s.key: s.name(lang) for s in services}
    chosen = widgets.multiselect(t("page.services_shown", lang), keys, where=st.sidebar,
                                 default=[k for k in DEFAULT_SHOWN if k in keys], lang=lang,
                                 key="services", format_func=lambda k: names[k])
    return tuple(k for k in keys if k in chosen)


def basemap(lang: str) -> str:
    return widgets.radio(t("map.basemap", lang), ("offline", "osm"), key="basemap",
                         where=st.sidebar, format_func=lambda b: t(f"map.basemap_{b}", lang),
                         help=t("page.basemap_help", lang))


def page_settings() -> PageSettings | None:
    """Every sidebar widget, in order; None while the area's source is still missing."""
    lang = language()
    st.html(widgets.uploader_css(lang))  # the file uploaders' fixed words, translated
    services = catalogue()
    source = area_source(lang)
    layer_files = layer_uploads(lang, source)
    st.sidebar.header(t("page.settings", lang))
    shown = shown_services(lang, services)
    settings, band = run_settings(lang, services)
    base = basemap(lang)
    if source is None:
        return None
    return PageSettings(lang=lang, source=source, uploads=layer_files, run=settings,
                        services=shown, band=band, basemap=base)
