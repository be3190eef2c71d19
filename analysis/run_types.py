"""What a run is made of: its inputs and settings, the values its stages hand each other,
its result.

Every module of a run imports these from here (the stage graph :mod:`analysis.stages`,
the stage functions, :mod:`analysis.pipeline`), so none of them needs another to know
them. :func:`walk_settings` is the one place where the run's walking settings and the
service catalogue are merged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace

import geopandas as gpd
import pandas as pd

from analysis.capacity.stage import CapacitySettings
from analysis.settings import WalkSettings
from geo.catalogue import Service
from geo.grids import GridSettings
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea
from geo.walls import WallSettings

#: called with a translation key (``step.…``) before each long step
Progress = Callable[[str], None]
OSM_CREDIT = "© OpenStreetMap contributors"


@dataclass(frozen=True)
class RunSettings:
    """Every setting of one run (each part validated by its own dataclass)."""

    households: HouseholdSettings = field(default_factory=HouseholdSettings)
    grids: GridSettings = field(default_factory=GridSettings)
    walk: WalkSettings = field(default_factory=WalkSettings)
    walls: WallSettings = field(default_factory=WallSettings)
    capacity: CapacitySettings = field(default_factory=CapacitySettings)


@dataclass(frozen=True, eq=False)
class Result:
    """Everything one run produced, in the study area's metric CRS.

    ``layers`` maps CONTRACT.md layer names to frames (``coverage`` has no geometry);
    ``summary`` is the content of SUMMARY.json.
    """

    area: StudyArea
    settings: RunSettings
    catalogue: tuple[Service, ...]
    layers: dict[str, pd.DataFrame]
    summary: dict

    @property
    def households(self) -> gpd.GeoDataFrame:
        return self.layers["households"]


@dataclass(frozen=True, eq=False)
class Base:
    """What the first stages produced: households, communities, grids, facilities."""

    households: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    grids_report: dict
    facilities: gpd.GeoDataFrame
    catalogue: tuple[Service, ...]
    timings_s: dict


@dataclass(frozen=True, eq=False)
class Reach:
    """Walking minutes, coverage and gaps (:class:`analysis.circles.Measured`) and the
    walking settings they were measured with."""

    measured: object
    walk: WalkSettings
    timings_s: dict

    @property
    def reach(self):
        return self.measured.reach


@dataclass(frozen=True, eq=False)
class Inputs:
    """What a run starts from besides its settings.

    ``key`` identifies the area and the uploaded layers (the page passes its frozen source
    and uploads; without one, the objects' identities are used). ``previous`` and
    ``locked`` are the grid ids of an earlier run to keep (see :func:`geo.grids.make_grids`).
    """

    area: StudyArea
    register: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    communities: gpd.GeoDataFrame | None = None
    catalogue: tuple[Service, ...] | None = None
    previous: pd.Series | None = None
    locked: tuple[str, ...] = ()
    key: Hashable = None

    def identity(self) -> Hashable:
        if self.key is not None:
            return self.key
        return tuple(id(x) for x in (self.area, self.register, self.facilities,
                                     self.communities))

    def grid_key(self) -> Hashable:
        """What the kept grids add to the grid stage's key (a digest of ``previous``)."""
        if self.previous is None and not self.locked:
            return None
        return (previous_digest(self.previous), tuple(sorted(self.locked)))


def previous_digest(previous: pd.Series | None) -> str:
    if previous is None:
        return ""
    plain = pd.Series(previous.astype(str).to_numpy(), index=previous.index.astype(str))
    return hashlib.blake2b(pd.util.hash_pandas_object(plain).to_numpy().tobytes(),
                           digest_size=12).hexdigest()


def walk_settings(settings: RunSettings, catalogue: tuple[Service, ...]) -> WalkSettings:
    """The run's walking settings with the services of ``catalogue``: a threshold the
    user changed from the bundled default wins; otherwise the catalogue's applies.

    The one merge of the two: the stage graph's runner makes it once per run
    (``Runner.walk``), and every stage that walks reads that."""
    walk = settings.walk
    merged = walk.for_catalogue(catalogue)
    if merged is walk:
        return walk
    default = dict(WalkSettings().thresholds_min)
    chosen = {k: m for k, m in walk.thresholds_min if default.get(k) != m}
    if not chosen:
        return merged
    thresholds = tuple((k, chosen.get(k, m)) for k, m in merged.thresholds_min)
    return replace(merged, thresholds_min=thresholds)


__all__ = ["OSM_CREDIT", "Base", "Inputs", "Progress", "Reach", "Result", "RunSettings", "previous_digest",
           "walk_settings"]
