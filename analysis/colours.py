"""Colours shown for each service: one table for the page's maps and the report.

Thirteen services need thirteen colours a reader can tell apart on a map and in a legend:
the ten of matplotlib's ``tab10`` (Tableau 10), plus light green, near-black and peach,
chosen so that every pair differs by at least ΔE*ab 28 in CIELAB (a test checks it).
A service outside this table (an edited catalogue) takes the next colour of a fallback
list in catalogue order, so it never borrows a listed service's colour.
"""

from __future__ import annotations

from collections.abc import Sequence

SERVICE_COLOURS: dict[str, str] = {
    "community_service": "#1f77b4", "health": "#d62728", "kindergarten": "#ff7f0e",
    "primary_school": "#2ca02c", "middle_school": "#17becf", "elderly_care": "#9467bd",
    "market": "#8c564b", "convenience": "#e377c2", "pharmacy": "#bcbd22",
    "sports": "#7f7f7f", "park": "#98df8a", "bus_stop": "#252525", "culture": "#fdd0a2",
}
#: For services outside :data:`SERVICE_COLOURS`, in order of appearance.
FALLBACK_COLOURS = ("#6a3d9a", "#b15928", "#01665e", "#c51b7d", "#4d9221", "#2166ac",
                    "#8c510a", "#762a83", "#1b7837", "#b2182b")


def service_colours(services: Sequence[str]) -> dict[str, str]:
    """A distinct colour for each of ``services`` (listed ones keep their own)."""
    out, spare = {}, iter(FALLBACK_COLOURS * (1 + len(services) // len(FALLBACK_COLOURS)))
    for s in services:
        out[s] = SERVICE_COLOURS.get(s) or next(spare)
    return out


def service_colour(service: str) -> str:
    """The colour of one service (grey for one outside the table)."""
    return SERVICE_COLOURS.get(service, "#555555")


__all__ = ["FALLBACK_COLOURS", "SERVICE_COLOURS", "service_colour", "service_colours"]
