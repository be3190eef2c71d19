"""Settings of the service-circle analysis, as small frozen dataclasses validated on creation.

:class:`WalkSettings` holds what changes a walking-time answer: the speed of each walking
profile (``data/walk_profiles.csv``, each value with its source), the threshold and the
profile of each service (``data/services.csv``, the planners' editable catalogue), how far a
home or facility may lie from the nearest street and still count as on the network, the
minute levels drawn as service areas (GB 50180-2018: 5, 10 and 15 minutes) and the
horizon beyond which a walk is no longer measured.

Everything is held in tuples so that a settings object is hashable and can key a cache.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

from geo.catalogue import DEFAULT_CATALOGUE, Service, load_catalogue
from geo.errors import InputError, SettingsError
from geo.settings import check_range

DEFAULT_PROFILES = Path(__file__).resolve().parent.parent / "data" / "walk_profiles.csv"


@dataclass(frozen=True)
class WalkProfile:
    """One walking profile: a key, its speed and where the speed comes from."""

    key: str
    name_zh: str
    name_en: str
    speed_mps: float
    source: str


def load_profiles(path: str | Path = DEFAULT_PROFILES) -> tuple[WalkProfile, ...]:
    """Read the walking profiles (``key,name_zh,name_en,speed_mps,source``).

    Raises
    ------
    InputError
        If a row is malformed.
    """
    path = Path(path)
    profiles = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                profiles.append(WalkProfile(
                    key=row["key"].strip(), name_zh=row["name_zh"].strip(),
                    name_en=row["name_en"].strip(), speed_mps=float(row["speed_mps"]),
                    source=row["source"].strip()))
            except (KeyError, ValueError, AttributeError) as exc:
                raise InputError("err.walk_profiles", path=path, row=row_no, detail=exc) from None
    if not profiles:
        raise InputError("err.walk_profiles", path=path, row="-", detail="no profile")
    return tuple(profiles)


def _default_speeds() -> tuple[tuple[str, float], ...]:
    return tuple((p.key, p.speed_mps) for p in load_profiles())


def _default_catalogue() -> tuple[Service, ...]:
    return load_catalogue(DEFAULT_CATALOGUE)


def _default_thresholds() -> tuple[tuple[str, float], ...]:
    return tuple((s.key, s.threshold_min) for s in _default_catalogue())


def _default_service_profiles() -> tuple[tuple[str, str], ...]:
    return tuple((s.key, s.profile) for s in _default_catalogue())


def _default_levels() -> tuple[tuple[str, int], ...]:
    return tuple((s.key, s.level) for s in _default_catalogue())


@dataclass(frozen=True)
class WalkSettings:
    """How walking times are measured and judged.

    Attributes
    ----------
    speeds_mps
        ``(profile, speed in m/s)`` pairs; defaults from ``data/walk_profiles.csv``
        (adult 1.2, elderly 1.0, frail 0.9 m/s, each with its source in that file).
    thresholds_min
        ``(service, minutes)``: a household is covered when its walk to the nearest
        facility takes at most this long; defaults from ``data/services.csv``.
    service_profiles
        ``(service, profile)``: whose pace each service is walked at (elderly care at
        the elderly pace by default).
    service_levels
        ``(service, minutes)``: the life-circle level (5, 10 or 15 minutes) whose
        facility list the service belongs to (GB 50180-2018 附录B).
    max_snap_m
        A home or facility farther than this from every walkable street is reported as
        "not on the network" rather than forced onto a distant street.
    minutes
        Minute levels drawn as nested service areas.
    horizon_min
        Walks longer than this are not measured (reported as unreachable); it bounds each
        shortest-path search and must be at least the largest threshold.
    """

    speeds_mps: tuple[tuple[str, float], ...] = field(default_factory=_default_speeds)
    thresholds_min: tuple[tuple[str, float], ...] = field(default_factory=_default_thresholds)
    service_profiles: tuple[tuple[str, str], ...] = field(
        default_factory=_default_service_profiles)
    service_levels: tuple[tuple[str, int], ...] = field(default_factory=_default_levels)
    max_snap_m: float = 150.0
    minutes: tuple[float, ...] = (5, 10, 15)
    horizon_min: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "speeds_mps", _pairs(self.speeds_mps, float))
        object.__setattr__(self, "thresholds_min", _pairs(self.thresholds_min, float))
        object.__setattr__(self, "service_profiles", _pairs(self.service_profiles, str))
        object.__setattr__(self, "service_levels", _pairs(self.service_levels, int))
        object.__setattr__(self, "minutes", tuple(float(m) for m in self.minutes))
        for profile, speed in self.speeds_mps:
            check_range(f"speed_mps[{profile}]", speed, 0.3, 3.0)
        for service, minutes in self.thresholds_min:
            check_range(f"threshold_min[{service}]", minutes, 1, 120)
        profiles = dict(self.speeds_mps)
        services = dict(self.thresholds_min)
        for service, profile in self.service_profiles:
            if profile not in profiles:
                raise SettingsError("err.unknown_profile", service=service, profile=profile,
                                    choices=", ".join(profiles))
        for service in services:
            if service not in dict(self.service_profiles):
                raise SettingsError("err.service_without_profile", service=service)
        for service, level in self.service_levels:
            check_range(f"service_levels[{service}]", level, 1, 120)
        check_range("max_snap_m", self.max_snap_m, 1, 2000)
        if not self.minutes or any(b <= a for a, b in zip(self.minutes, self.minutes[1:])):
            raise SettingsError("err.minutes_order", minutes=list(self.minutes))
        for minutes in self.minutes:
            check_range("minutes", minutes, 1, 120)
        longest = max([*services.values(), *self.minutes], default=0)
        check_range("horizon_min", self.horizon_min, longest, 600)

    # -- look-ups ---------------------------------------------------------------------
    @property
    def services(self) -> tuple[str, ...]:
        """The service keys with a threshold, in catalogue order."""
        return tuple(k for k, _ in self.thresholds_min)

    def profile(self, service: str) -> str:
        """The walking profile a service is walked at."""
        return dict(self.service_profiles)[self._known(service)]

    def speed_mps(self, service: str) -> float:
        """Walking speed (m/s) used for a service."""
        return dict(self.speeds_mps)[self.profile(service)]

    def threshold_min(self, service: str) -> float:
        """Minutes within which a household counts as covered for a service."""
        return dict(self.thresholds_min)[self._known(service)]

    def threshold_m(self, service: str) -> float:
        """The threshold as a walking distance at the service's speed."""
        return self.threshold_min(service) * 60.0 * self.speed_mps(service)

    def level(self, service: str) -> int:
        """Life-circle level (minutes) of a service; its threshold when not given."""
        levels = dict(self.service_levels)
        return int(levels.get(service, round(self.threshold_min(service))))

    def horizon_m(self, service: str) -> float:
        """The longest walk measured for a service, in metres."""
        return self.horizon_min * 60.0 * self.speed_mps(service)

    def _known(self, service: str) -> str:
        if service not in dict(self.thresholds_min):
            raise InputError("err.unknown_service", name=service,
                             choices=", ".join(self.services))
        return service

    # -- variations -------------------------------------------------------------------
    def with_speed(self, speed_mps: float, *, profile: str = "adult") -> WalkSettings:
        """A copy with one profile's speed changed (``--speed-mps`` sets the adult pace)."""
        speeds = dict(self.speeds_mps)
        if profile not in speeds:
            raise SettingsError("err.unknown_profile", service="-", profile=profile,
                                choices=", ".join(speeds))
        speeds[profile] = float(speed_mps)
        return replace(self, speeds_mps=tuple(speeds.items()))

    def with_threshold(self, service: str, minutes: float) -> WalkSettings:
        """A copy with one service's threshold changed."""
        thresholds = dict(self.thresholds_min)
        thresholds[self._known(service)] = float(minutes)
        return replace(self, thresholds_min=tuple(thresholds.items()))

    def for_catalogue(self, catalogue: tuple[Service, ...]) -> WalkSettings:
        """A copy whose services, thresholds, profiles and levels are the catalogue's
        (speeds and the other options kept); ``self`` if they already match."""
        thresholds = tuple((s.key, s.threshold_min) for s in catalogue)
        profiles = tuple((s.key, s.profile) for s in catalogue)
        levels = tuple((s.key, s.level) for s in catalogue)
        if (thresholds, profiles, levels) == (self.thresholds_min, self.service_profiles,
                                              self.service_levels):
            return self
        return replace(self, thresholds_min=thresholds, service_profiles=profiles,
                       service_levels=levels)

    def as_dict(self) -> dict:
        """Plain values for a summary or a project file."""
        return {
            "speeds_mps": dict(self.speeds_mps),
            "thresholds_min": dict(self.thresholds_min),
            "service_profiles": dict(self.service_profiles),
            "service_levels": dict(self.service_levels),
            "max_snap_m": self.max_snap_m,
            "minutes": list(self.minutes),
            "horizon_min": self.horizon_min,
        }

    @classmethod
    def from_catalogue(cls, catalogue: tuple[Service, ...], *,
                       profiles: tuple[WalkProfile, ...] | None = None,
                       **options: object) -> WalkSettings:
        """Settings for a catalogue other than the bundled one (and optional profiles)."""
        profiles = load_profiles() if profiles is None else profiles
        return cls(
            speeds_mps=tuple((p.key, p.speed_mps) for p in profiles),
            thresholds_min=tuple((s.key, s.threshold_min) for s in catalogue),
            service_profiles=tuple((s.key, s.profile) for s in catalogue),
            service_levels=tuple((s.key, s.level) for s in catalogue),
            **options)


def _pairs(value: object, kind: type) -> tuple:
    """Normalise a mapping or an iterable of pairs to a tuple of ``(str, kind)`` pairs."""
    items = value.items() if isinstance(value, dict) else value
    try:
        out = tuple((str(key), kind(item)) for key, item in items)
    except (TypeError, ValueError):
        raise SettingsError("err.setting_pairs", value=str(value)[:80]) from None
    keys = [key for key, _ in out]
    for key in keys:
        if keys.count(key) > 1:
            raise SettingsError("err.duplicate_setting", name=key)
    return out
