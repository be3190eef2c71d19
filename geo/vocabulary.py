"""The project's words for its own data: the names of the columns it writes and the
defaults every caller shares (one place, as cityseer's ``prep_gdf_key`` names every output
column). Nothing here computes; modules import the names instead of spelling them."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MINUTES_PREFIX", "DEFAULT_BAND", "GAP_MEDIAN_MINUTES", "GAP_MAX_MINUTES",
           "minutes_column", "service_of_column", "services_with_minutes"]

#: households' walking minutes to the nearest facility of a service: ``walk_min_<service>``
MINUTES_PREFIX = "walk_min_"
#: a gap's median and longest walk to the nearest existing facility (the gaps layer)
GAP_MEDIAN_MINUTES = f"{MINUTES_PREFIX}median"
GAP_MAX_MINUTES = f"{MINUTES_PREFIX}max"
#: households per grid (low, high) unless a planner says otherwise
DEFAULT_BAND = (200, 300)


def minutes_column(service: str) -> str:
    """The households' column of walking minutes to ``service`` (``walk_min_health``)."""
    return f"{MINUTES_PREFIX}{service}"


def service_of_column(column: str) -> str | None:
    """The service whose minutes ``column`` holds, or ``None`` for another column
    (the inverse of :func:`minutes_column`)."""
    column = str(column)
    if not column.startswith(MINUTES_PREFIX) or column in (GAP_MEDIAN_MINUTES, GAP_MAX_MINUTES):
        return None
    return column[len(MINUTES_PREFIX):]


def services_with_minutes(columns: Iterable[str]) -> list[str]:
    """The services that ``columns`` hold walking minutes for, in the columns' order."""
    return [s for s in (service_of_column(c) for c in columns) if s]
