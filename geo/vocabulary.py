"""The project's words for its own data: the names of the columns it writes and the
defaults every caller shares (one place, as cityseer's ``prep_gdf_key`` names every output
column). Nothing here computes; modules import the names instead of spelling them."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MINUTES_PREFIX", "DEFAULT_BAND", "GAP_MEDIAN_MINUTES", "GAP_MAX_MINUTES",
           "CAPACITY_KINDS", "minutes_column", "service_of_column", "services_with_minutes",
           "capacity_column", "per_service_column"]

#: households' walking minutes to the nearest facility of a service: ``walk_min_<service>``
MINUTES_PREFIX = "walk_min_"
#: a gap's median and longest walk to the nearest existing facility (the gaps layer)
GAP_MEDIAN_MINUTES = f"{MINUTES_PREFIX}median"
GAP_MAX_MINUTES = f"{MINUTES_PREFIX}max"
#: per grid and community for services with capacities: ``demand_<service>`` (places
#: needed), ``supply_<service>`` (places reachable), ``shortfall_<service>``
CAPACITY_KINDS = ("demand", "supply", "shortfall")
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


def capacity_column(kind: str, service: str) -> str:
    """A grid's or community's capacity column (``shortfall_primary_school``)."""
    if kind not in CAPACITY_KINDS:
        raise ValueError(f"capacity column kind must be one of {CAPACITY_KINDS}, not {kind!r}")
    return f"{kind}_{service}"


def per_service_column(column: str, services: Iterable[str]) -> tuple[str, str] | None:
    """``(kind, service)`` of a per-service column among ``services``: kind ``minutes``
    for :func:`minutes_column`, else one of :data:`CAPACITY_KINDS`; ``None`` otherwise."""
    known = set(services)
    service = service_of_column(column)
    if service in known:
        return "minutes", service
    for kind in CAPACITY_KINDS:
        if str(column).startswith(kind + "_") and str(column)[len(kind) + 1:] in known:
            return kind, str(column)[len(kind) + 1:]
    return None
