"""Sentences about capacity for the report and the page: the largest shortfall of each
service by place ("小学学位缺口 1,240 个，最大在锦绣东方一带")."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from geo.i18n import t


def shortfall_lines(summary: dict, grids: pd.DataFrame | None,
                    service_name: Callable[[str], str], community_name: Callable[[str], str],
                    lang: str, *, services: list[str] | None = None) -> list[str]:
    """One line per service with a shortfall, largest first: the places short and where
    the largest grid shortfall lies (its community and grid id). Services whose demand
    has no cited figure are named once as not computed."""
    block = summary.get("capacity") or {}
    community_of = ({str(g): str(c) for g, c in zip(grids["grid_id"], grids["community_id"])}
                    if grids is not None and len(grids) and "community_id" in grids else {})
    short, unknown = [], []
    for key, s in block.items():
        if services is not None and key not in services:
            continue
        if s.get("shortfall") is None:
            unknown.append(service_name(key))
            continue
        if s["shortfall"] < 0.5:
            continue
        top = (s.get("grids_short") or [{}])[0].get("id")
        place = ""
        if top is not None:
            where = community_of.get(str(top))
            place = f"{community_name(where)} ({top})" if where else str(top)
        short.append((s["shortfall"], key, place))
    lines = []
    for value, key, place in sorted(short, key=lambda x: (-x[0], x[1])):
        lines.append(t("capacity.report_short" if place else "capacity.report_short_nowhere",
                       lang, service=service_name(key), places=f"{value:,.0f}", place=place))
    if unknown:
        sep = "、" if lang == "zh" else ", "
        lines.append(t("capacity.report_unknown", lang, services=sep.join(unknown)))
    return lines


def appendix_rows(summary: dict, service_name: Callable[[str], str],
                  lang: str) -> list[tuple[str, str]]:
    """The report appendix's capacity figures: a heading row naming the method, then per
    service ``capacity / reached / demand / shortfall`` in places (– where not computed)
    and how many capacities were given, from OSM or estimated."""
    block = summary.get("capacity") or {}
    if not block:
        return []
    first = next(iter(block.values()))
    rows = [(t("capacity.appendix_heading", lang),
             t(f"capacity.appendix_method_{first['method']}", lang))]
    number = lambda v: "–" if v is None else f"{v:,.0f}"  # noqa: E731
    for key, s in block.items():
        caps = s.get("capacities", {})
        rows.append((t("capacity.appendix_row", lang, service=service_name(key),
                       given=caps.get("given", 0), osm=caps.get("osm", 0),
                       estimated=caps.get("estimated", 0)),
                     " / ".join(number(s.get(k)) for k in ("supply", "supply_reached", "demand",
                                                          "shortfall"))))
    return rows


__all__ = ["appendix_rows", "shortfall_lines"]
