"""Short sentences from a run's summary that the page and the report both show: coverage
for age groups (``coverage_groups``) and what gated compounds change
(``compound_access``). One place for the wording, in both languages (data/i18n)."""

from __future__ import annotations

from typing import Callable

from geo.i18n import t


def group_coverage_lines(summary: dict, service_name: Callable[[str], str],
                         lang: str) -> list[str]:
    """One line per age group and service: ``60岁及以上老人：72% 步行 5 分钟内可达养老服务``."""
    lines = []
    thresholds = summary.get("thresholds_min") or {}
    for group, shares in (summary.get("coverage_groups") or {}).items():
        for service, share in shares.items():
            lines.append(t("text.group_coverage", lang, group=t(f"group.{group}", lang),
                           share=f"{float(share):.0%}", service=service_name(service),
                           minutes=f"{float(thresholds.get(service, 15)):g}"))
    return lines


def compound_access_line(summary: dict, service_name: Callable[[str], str],
                         lang: str) -> str | None:
    """Compounds walled, households inside walls and the service whose coverage the walls
    change most (with walls against without), and how many gates were assumed; ``None``
    when no compound is walled."""
    block = summary.get("compound_access") or {}
    if not block.get("gated") or not block.get("compounds_gated"):
        return None
    changes = {s: c["with_walls"] - c["without_walls"]
               for s, c in (block.get("coverage") or {}).items()
               if c.get("with_walls") is not None and c.get("without_walls") is not None}
    params = {"compounds": int(block["compounds_gated"]),
              "households": f"{int(block.get('households_affected', 0)):,}"}
    # the largest change; ties by service order (stable)
    service = max(changes, key=lambda s: abs(changes[s]), default=None)
    assumed = int((block.get("access_points") or {}).get("assumed", 0) or 0)
    tail = (t("text.walls_assumed", lang, gates=assumed,
              compounds=int(block.get("compounds_with_assumed_gates", 0) or 0))
            if assumed else "")
    if service is None or abs(changes[service]) < 0.0005:
        return t("text.walls_no_change", lang, **params) + tail
    c = block["coverage"][service]
    return t("text.walls_change", lang, service=service_name(service),
             without=f"{c['without_walls']:.1%}", with_=f"{c['with_walls']:.1%}",
             **params) + tail
