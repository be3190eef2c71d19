"""What every page needs: the project's layers, names, language, paper and services."""

from __future__ import annotations

import json
from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from analysis.colours import service_colours
from analysis.project import Project
from analysis.area_names import area_name, clean
from analysis.report.style import PAPERS_IN
from geo.vocabulary import services_with_minutes
from geo.catalogue import load_catalogue
from geo.errors import InputError, ProjectFileError
from geo.grids.reasons import name_text
from geo.i18n import t, table


class Context:
    """What every page needs: the project's layers, names, language and paper."""

    def __init__(self, project: Project, lang: str, paper: str, services: Sequence[str] | None):
        if lang not in ("zh", "en"):
            raise InputError("err.report_lang", lang=lang)
        paper = str(paper).upper()
        if paper not in PAPERS_IN:
            raise InputError("err.report_paper", paper=paper, choices=", ".join(PAPERS_IN))
        self.project, self.lang, self.paper = project, lang, paper
        self.size_in = PAPERS_IN[paper]
        self.scale = self.size_in[0] / PAPERS_IN["A4"][0]
        self.layers = project.layers
        if "households" not in self.layers:
            raise ProjectFileError("err.not_project", path=project.path or "?",
                                   detail="no households layer")
        self.catalogue = {s.key: s for s in load_catalogue()}
        hh = self.layers["households"]
        held = services_with_minutes(hh.columns)
        available = [k for k in self.catalogue if k in held]
        available += [s for s in held if s not in available]
        if services is None:
            self.services = available
        else:
            unknown = [s for s in services if s not in available]
            if unknown:
                raise InputError("err.report_service", services=", ".join(unknown),
                                 choices=", ".join(available) or "-")
            self.services = list(services)
        self.thresholds = {**{k: s.threshold_min for k, s in self.catalogue.items()},
                           **(project.meta.get("thresholds_min") or {}),
                           **(project.summary.get("thresholds_min") or {})}
        self.credit = clean(project.credit, 200)
        self.extent = self._extent()
        # the area as the page names it (a demo by its name, an upload by its file's own
        # name), not the data's internal name
        self.area_name = clean(area_name(project, lang), 60)
        self.colours = service_colours(list(dict.fromkeys([*self.catalogue, *self.services])))
        comms = self.layers.get("communities")
        self.community_names: dict[str, str] = {}
        if isinstance(comms, gpd.GeoDataFrame) and len(comms):
            names = comms["name"] if "name" in comms else comms["community_id"]
            keys = comms["name_key"] if "name_key" in comms else pd.Series("", index=comms.index)
            for cid, name, key in zip(comms["community_id"].astype(str), names, keys):
                shown = name_text(key, lang) if isinstance(key, str) and key else name
                self.community_names[cid] = clean(shown, 24) or cid

    def charset(self, *extra: str) -> str:
        """Every character the report may print in its language (for the font subset)."""
        parts = [v[self.lang] for v in table().values()]
        parts += [s.name(self.lang) for s in self.catalogue.values()]
        for frame in self.layers.values():
            if not hasattr(frame, "columns"):
                continue
            for col in frame.columns:
                if col != "geometry" and not pd.api.types.is_numeric_dtype(frame[col]):
                    try:
                        values = frame[col].dropna().astype(str).unique()[:100_000]
                    except (TypeError, ValueError):
                        continue
                    parts.append("".join(values))
        parts.append(json.dumps(self.project.summary, ensure_ascii=False, default=str))
        parts.append(json.dumps(self.project.meta, ensure_ascii=False, default=str))
        parts += [str(e) for e in extra if e]
        chars = set("".join(parts)) - set("\n\r\t")
        return "".join(sorted(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF))

    def community(self, community_id: object) -> str:
        """A community's name (its id where it has none)."""
        return self.community_names.get(str(community_id), clean(community_id, 24))

    def fs(self, points: float) -> float:
        """A font size in points, scaled with the paper."""
        return points * self.scale

    def tr(self, key: str, **params) -> str:
        return t(key, self.lang, **params)

    def service_name(self, key: str) -> str:
        s = self.catalogue.get(key)
        return s.name(self.lang) if s else key

    def _extent(self) -> tuple[float, float, float, float]:
        # where the households are (the study area can include long empty approaches)
        for name in ("grids", "households", "communities", "study_area"):
            frame = self.layers.get(name)
            if isinstance(frame, gpd.GeoDataFrame) and len(frame):
                x0, y0, x1, y1 = frame.total_bounds
                if x1 > x0 and y1 > y0:
                    pad = 0.03 * max(x1 - x0, y1 - y0)
                    return x0 - pad, y0 - pad, x1 + pad, y1 + pad
        raise ProjectFileError("err.not_project", path=self.project.path or "?", detail="empty")


def thin_services(ctx: "Context") -> list[str]:
    """The report's services whose facilities are implausibly few (data gaps, from the
    project's ``data_completeness``, else from its gaps labelled ``cause`` = ``data``)."""
    thin = (ctx.project.summary.get("data_completeness") or {}).get("thin_services")
    if thin is None:
        gaps = ctx.layers.get("gaps")
        thin = (list(gaps.loc[gaps["cause"] == "data", "service"].unique())
                if gaps is not None and len(gaps) and "cause" in gaps else [])
    return [s for s in ctx.services if s in set(thin)]


# ----------------------------------------------------------------------------- pages


