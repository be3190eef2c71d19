"""What the reach step found wrong or unusual in its inputs, and the notes it tells."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo import i18n
from geo.catalogue import load_catalogue
from geo.errors import InputError
from geo.network import Snap, WalkNetwork
from geo.places import facility_labels

#: Facilities of one service closer than this are reported as duplicates.
DUPLICATE_M = 1.0
#: How many ids a report lists before it says "…".
MAX_IDS = 10


def ids_text(values: np.ndarray) -> str:
    """Up to :data:`MAX_IDS` ids or labels joined by ``; `` (then `` …`` if there are more)."""
    values = [str(v) for v in values]
    return "; ".join(values[:MAX_IDS]) + (" …" if len(values) > MAX_IDS else "")


class FacilityLabels:
    """``name (place)`` (:func:`geo.places.facility_labels`) of the facilities where a mask
    is true, made when asked for and only as many as a note lists (:data:`MAX_IDS` and
    one more, for its "…"): the place of a facility without a street is its latitude and
    longitude, and the first transformation to them costs more than all the checks."""

    def __init__(self, facilities: pd.DataFrame) -> None:
        self.facilities = facilities
        self._made: dict[int, str] = {}

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(mask)[:MAX_IDS + 1]
        if rows.size == 0:
            return np.array([], dtype=object)
        if all(r in self._made for r in rows.tolist()):
            return np.array([self._made[r] for r in rows.tolist()], dtype=object)
        return facility_labels(self.facilities.iloc[rows])

    def make(self, masks: list[np.ndarray]) -> None:
        """The labels of every facility that ``masks`` will ask for, made at once (one
        selection of the frame and one transformation for all the notes, not one each;
        each facility's label is its own, whichever others are made with it)."""
        rows = np.unique(np.concatenate([np.flatnonzero(m)[:MAX_IDS + 1] for m in masks]
                                        or [np.zeros(0, dtype=np.int64)]))
        rows = rows[~np.isin(rows, list(self._made))]
        if rows.size:
            self._made.update(zip(rows.tolist(), facility_labels(self.facilities.iloc[rows])))


def input_report(network: WalkNetwork, hh_snap: Snap, weight: np.ndarray, fac: pd.DataFrame,
                 boundary: shapely.Geometry | None, services: tuple[str, ...],
                 max_snap_m: float, name: FacilityLabels) -> dict:
    """The input checks of :func:`analysis.reach.index.prepare_reach`: homes off the
    network, facilities of unknown services, off the network, outside the area,
    duplicated or on network islands, and services without any facility. ``name``: the
    labels of the facilities (those a note lists made at once)."""
    labels = network.components
    on = hh_snap.edge >= 0
    hh_comp = np.full(on.size, -1)
    hh_comp[on] = labels[network.edge_u[hh_snap.edge[on]]]
    report: dict = {
        "max_snap_m": float(max_snap_m),
        "network": dict(network.report),
        "households": {
            "units": int(on.size), "households": int(weight.sum()),
            "off_network_units": int((~on).sum()),
            "off_network_households": int(weight[~on].sum()),
            "off_main_component_households": int(weight[on & (hh_comp > 0)].sum()),
        },
        "facilities": {},
    }
    # (the columns as arrays once: pandas' own selections cost more than the checks here)
    status = fac["status"].to_numpy(dtype=object)
    service_of = fac["service"].to_numpy(dtype=object)
    unknown = status == "unknown_service"
    # the ids of each note filled in at the end, all labels made at once
    # (:meth:`FacilityLabels.make`)
    named: list[tuple[dict, str, np.ndarray]] = []
    report["unknown_service_facilities"] = {
        "count": int(unknown.sum()),
        "services": sorted(set(service_of[unknown])),
        "ids": None,
    }
    named.append((report["unknown_service_facilities"], "ids", unknown))
    xy = np.column_stack([fac["x"].to_numpy(dtype=float), fac["y"].to_numpy(dtype=float)])
    outside = np.zeros(len(fac), dtype=bool)
    if boundary is not None and len(fac):
        outside = ~shapely.intersects_xy(boundary, xy[:, 0], xy[:, 1])
    fac_comp = np.full(len(fac), -1)
    edge = fac["edge"].to_numpy()
    ok = edge >= 0
    fac_comp[ok] = labels[network.edge_u[edge[ok]]]
    off_network = status == "off_network"
    id_repeated = _repeated(fac["facility_id"].to_numpy(dtype=object))
    # facilities this close to one of the same service: one tree for all services (the
    # same pairs as a tree per service; with a point not on the map, a tree per service
    # as before)
    close = None
    if len(fac) > 1 and np.isfinite(xy).all():
        close = cKDTree(xy).query_pairs(DUPLICATE_M, output_type="ndarray")
        close = close[service_of[close[:, 0]] == service_of[close[:, 1]]]
    # households on each piece of network (the homes on no piece first), summed once: a
    # service's homes on pieces without its facilities are those less the served pieces'
    on_piece = np.zeros(int(network.components.max(initial=-1)) + 2, dtype=np.int64)
    np.add.at(on_piece, hh_comp[on] + 1, weight[on])
    on_total = int(on_piece.sum())
    for service in services:
        mine = service_of == service
        off = mine & off_network
        dup_id = mine & id_repeated
        dup_xy = np.zeros(len(fac), dtype=bool)
        rows = np.flatnonzero(mine)
        if close is not None:
            dup_xy[close[service_of[close[:, 0]] == service].ravel()] = True
        elif rows.size > 1:
            pairs = cKDTree(xy[rows]).query_pairs(DUPLICATE_M, output_type="ndarray")
            dup_xy[rows[pairs.ravel()]] = True
        island = mine & ok & (fac_comp > 0)
        used = mine & ok
        served = np.unique(fac_comp[used])
        entry = report["facilities"][service] = {
            "count": int(mine.sum()),
            "used": int(used.sum()),
            "none_in_area": bool(not used.any()),
            "off_network": int(off.sum()), "off_network_ids": None,
            "outside_area": int((mine & outside).sum()),
            "outside_area_ids": None,
            "duplicates": int((dup_id | dup_xy).sum()),
            "duplicate_ids": None,
            "on_islands": int(island.sum()), "on_island_ids": None,
            "households_on_islands_without": on_total - int(on_piece[served + 1].sum())
            if used.any() else 0,
        }
        named += [(entry, "off_network_ids", off), (entry, "outside_area_ids", mine & outside),
                  (entry, "duplicate_ids", dup_id | dup_xy), (entry, "on_island_ids", island)]
    flagged = [mask for _, _, mask in named if mask.any()]
    if flagged:
        name.make(flagged)
    for entry, key, mask in named:
        entry[key] = ids_text(name(mask))
    return report


def _repeated(values: np.ndarray) -> np.ndarray:
    """Whether each value occurs more than once (pandas' ``duplicated(keep=False)``; text
    ids counted in a dict, several times quicker on a few hundred facilities)."""
    items = values.tolist()
    if not all(type(v) is str for v in items):
        return pd.Series(values, dtype=object).duplicated(keep=False).to_numpy()
    counts = Counter(items)
    return np.fromiter((counts[v] > 1 for v in items), dtype=bool, count=len(items))



# -------------------------------------------------------------------------------------
# messages
# -------------------------------------------------------------------------------------
def reach_notes(report: dict, lang: str = "zh", *, reach_report: dict | None = None) -> list[str]:
    """Plain-language notes about bad or unusual input, for the summary and the page.

    Parameters
    ----------
    report
        ``ReachIndex.report``.
    lang
        ``zh`` or ``en``.
    reach_report
        ``HouseholdReach.report`` (adds households no facility can be reached from).
    """
    return [i18n.t(key, lang, **params) for key, params in _notes(report, lang, reach_report)]


def reach_note_list(report: dict, *, reach_report: dict | None = None) -> list[dict]:
    """The notes of :func:`reach_notes` as notes (:func:`geo.i18n.note_by_language`: the
    services named in each language), for the summary."""
    zh, en = (_notes(report, lang, reach_report) for lang in ("zh", "en"))
    return [i18n.note_by_language(key, {"zh": pz, "en": pe}) for (key, pz), (_, pe) in zip(zh, en)]


def _notes(report: dict, lang: str, reach_report: dict | None) -> list[tuple[str, dict]]:
    """The notes as ``(key, params)``, their names in ``lang``."""
    names = _service_names(lang)
    notes = []

    def add(key: str, **params) -> None:
        notes.append((key, params))

    net = report.get("network", {})
    if net.get("zero_length_edges_dropped"):
        add("note.reach_zero_length", count=net["zero_length_edges_dropped"])
    if net.get("components", 1) > 1:
        add("note.reach_islands", parts=net["components"],
            nodes=net.get("nodes_off_main_component", 0))
    hh = report["households"]
    moved = report.get("moved_off_islands", {})
    if moved.get("units") or moved.get("facilities"):
        add("note.reach_moved_off_islands", units=moved["units"],
            households=moved["households"], facilities=moved["facilities"],
            max_snap_m=f"{report['max_snap_m']:g}")
    if hh["off_network_units"]:
        add("note.reach_hh_off_network", units=hh["off_network_units"],
            households=hh["off_network_households"], max_snap_m=f"{report['max_snap_m']:g}")
    unknown = report.get("unknown_service_facilities", {})
    if unknown.get("count"):
        add("note.reach_unknown_service", count=unknown["count"],
            services=", ".join(unknown["services"]), ids=unknown["ids"])
    for service, info in report["facilities"].items():
        name = names.get(service, service)
        if info["none_in_area"]:
            add("note.reach_none_in_area", service=name, count=info["count"])
        if info["off_network"]:
            add("note.reach_fac_off_network", service=name, count=info["off_network"],
                ids=info["off_network_ids"], max_snap_m=f"{report['max_snap_m']:g}")
        if info["outside_area"]:
            add("note.reach_fac_outside", service=name, count=info["outside_area"],
                ids=info["outside_area_ids"])
        if info["duplicates"]:
            add("note.reach_fac_duplicate", service=name, count=info["duplicates"],
                ids=info["duplicate_ids"])
        if info["on_islands"]:
            add("note.reach_fac_island", service=name, count=info["on_islands"],
                ids=info["on_island_ids"])
    groups: dict[tuple, list[str]] = {}  # one note per (households, horizon)
    for service, info in (reach_report or {}).items():
        if info["unreachable_households"] and not info["none_in_area"]:
            key = (info["unreachable_households"], info["horizon_min"])
            groups.setdefault(key, []).append(names.get(service, service))
    sep = "、" if lang == "zh" else ", "
    for (households, horizon), group in groups.items():
        add("note.reach_unreachable", service=sep.join(group), households=households,
            horizon=f"{horizon:g}")
    return notes


def _service_names(lang: str) -> dict[str, str]:
    try:
        return {s.key: s.name(lang) for s in load_catalogue()}
    except InputError:
        return {}
