"""Peer groups: which units are each other's peers for the common trend and the level ratios.

A unit's peers are the units of its organisation (the `organisation` its events name; the default group
when they name none), and within it those of its kind: workplaces with workplaces, care units with care
units (`drift.OrgDrift` keeps the two kinds apart inside one organisation's state, as a unit-day's figures
say which kind it counts for). One organisation is one key of the organisation stage, so organisations
spread over partitions and workers, and a batch writes only the organisations it changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.core.unit.summary import DaySummary

#: The default group's key: the key the organisation stage's one state had before there were groups, so a
#: state stored by such a release is read, unchanged, as the default group's (every unit was in it).
DEFAULT_GROUP = "org"


def group_of(organisation: str | None) -> str:
    """The key of an organisation's peer group (an organisationsnummer names a legal person, not a person)."""
    return DEFAULT_GROUP if organisation is None else f"org/{organisation}"


def by_group(summaries: Iterable[DaySummary]) -> dict[str, list[DaySummary]]:
    """Summaries by peer group, each group's in their order, the groups in the order first met."""
    groups: dict[str, list[DaySummary]] = {}
    for s in summaries:
        groups.setdefault(group_of(s.organisation), []).append(s)
    return groups
