"""How grids are drawn: the band and the work budget of the improvement phase."""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import SettingsError
from geo.settings import check_range
from geo.vocabulary import DEFAULT_BAND


@dataclass(frozen=True)
class GridSettings:
    """How grids are drawn.

    Attributes
    ----------
    min_households, max_households
        The band every grid's household count must lie in (200–300 in Erenhot; some
        cities use 300–500).
    improve_passes
        Passes over all pairs of neighbouring grids in the compactness improvement
        (0 switches improvement off). A pass ends early when it improves nothing.
    improve_tries_per_grid
        Work budget of the improvement, per grid of a community: pair re-splits tried
        at most this many times the community's grid count. Work is counted, never
        seconds, so results do not depend on the machine or its load.
    seed
        Seed of the random spanning trees used when no straight cut works (each
        community draws from its own stream, seeded by this and its id).
    """

    min_households: int = DEFAULT_BAND[0]
    max_households: int = DEFAULT_BAND[1]
    improve_passes: int = 3
    improve_tries_per_grid: int = 40
    seed: int = 0

    @property
    def band(self) -> tuple[int, int]:
        """The band as ``(low, high)`` households: the one name the band travels under
        from the command line and the page to the rule book and back from a project."""
        return int(self.min_households), int(self.max_households)

    def __post_init__(self) -> None:
        if not self.min_households > 0:
            raise SettingsError("err.grid_band_min", min=self.min_households)
        if self.min_households > self.max_households:
            raise SettingsError("err.grid_band_order", min=self.min_households,
                                max=self.max_households)
        check_range("max_households", self.max_households, 1, 1_000_000)
        check_range("improve_passes", self.improve_passes, 0, 100)
        check_range("improve_tries_per_grid", self.improve_tries_per_grid, 0, 10_000)

    @property
    def mid_households(self) -> float:
        return (self.min_households + self.max_households) / 2
