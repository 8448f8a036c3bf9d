"""Readers of person states written by earlier versions: each is brought to the current shape here, so
that `PersonState.from_dict` and the rules read one shape only.

1: ids seen without a digest of the event (any copy of such an id is taken for a duplicate).
2: flag ids by triggering event, no episodes counted (new episodes get ids marked "legacy").
3: facts stored with all eight fields (still read as they are), an empty checkpoint written out.
4: the rules' states kept in the fold's own fields (`repeated_active`, `ed_active`, an occasion's
   `long_flagged`, the discharges of the readmission window with a "readmitted" slot); since 5 each rule
   keeps its state under its name and writes it itself.
"""

from __future__ import annotations

from typing import Any

from streams.models.vocab import Rule

#: The digest of an id recorded by state version 1 (any copy of it is a duplicate).
UNKNOWN = -1
CURRENT_VERSION = 5


def upgrade(d: dict[str, Any]) -> dict[str, Any]:
    """A stored person state of any known version, in the shape of the current one (a new dict)."""
    version = d.get("version")
    if version == CURRENT_VERSION:
        return d
    if version not in (1, 2, 3, 4):
        raise ValueError(f"unknown person state version {version!r}")
    d = dict(d, version=CURRENT_VERSION)
    d["seen"] = {k: [v, UNKNOWN] if isinstance(v, int) else v for k, v in d["seen"].items()}
    if "checkpoint" in d:
        d["checkpoint"] = _fold_of_version_4(d["checkpoint"])
    return d


def _fold_of_version_4(fold: dict[str, Any]) -> dict[str, Any]:
    fold = dict(fold)
    if "episodes" not in fold:
        fold["episodes"] = {"legacy": 1}
    rules: dict[str, object] = {}
    if fold.pop("repeated_active", False):
        rules[Rule.REPEATED_SICK_LEAVE.value] = True
    if fold.pop("ed_active", False):
        rules[Rule.FREQUENT_EMERGENCY_VISITS.value] = True
    occasions = fold.get("occasions", [])
    fold["occasions"] = [list(o[:6]) for o in occasions]  # long_flagged: the day count says it
    # (t, event_id, unit_id, day, readmitted[, stay_id]): states written before stays were compared lack it
    discharges = [[d[0], d[1], d[2], d[3], d[5] if len(d) > 5 else "", d[4]] for d in fold.pop("discharges", ())]
    if discharges:
        rules[Rule.READMISSION_30D.value] = discharges
    if rules:
        fold["rules"] = rules
    fold.pop("rule_state", None)  # never written by a rule before version 5
    return fold
