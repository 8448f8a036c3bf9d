"""An organisation state as named parts, so that a batch writes only the parts it changed, not the whole
state (which grows with the group's units and the weeks kept).

Parts: `h` the header (clocks, evaluated week, the monitored outcomes), `f` the recent flags,
`u/<unit>` a unit's clocks and bases, `s/<day>/<unit>` a unit-day's figures (a part per day, not per block
of days: with many units a batch brings a day or two of each, and a block would be written again for each),
`m/<outcome>` the units' monitors of one outcome (all change when a week is evaluated), `w/<week>` a
snapshot, `o` the flag versions not known to be sent (`OrgState.unsent`); the care units' own group has the
same parts under `c/`. The stage marks the parts it changes
(`OrgState.touch`); `take_changes` hands them over. Values are JSON-able, and `from_parts(to_parts(s))`
is `s`: the same state and the same order of its units (the order float sums over them run in).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streams.core.org.state import STATE_VERSION, OrgState, UnitDrift, _trimmed
from streams.core.unit.summary import day_figures
from streams.models.flags import Flag

HEADER, FLAGS, UNSENT, CARE = "h", "f", "o", "c/"


def series_part(unit_id: str, day: int) -> str:
    return f"s/{day}/{unit_id}"


def unit_part(unit_id: str) -> str:
    return f"u/{unit_id}"


def monitors_part(outcome: str) -> str:
    return f"m/{outcome}"


def snapshot_part(week: int) -> str:
    return f"w/{week}"


def to_parts(state: OrgState) -> dict[str, Any]:
    """Every part of the state, the care units' group's under `c/`."""
    out: dict[str, Any] = {}
    _all_parts(state, "", out)
    if state.care is not None:
        _all_parts(state.care, CARE, out)
    return out


def take_changes(state: OrgState) -> tuple[dict[str, Any], list[str]] | None:
    """The parts changed since last taken (their values) and those gone (their names); None: the state
    was not taken as parts before (new, or read whole), every part is to be written. Clears the marks."""
    if state.changed is None:
        _clear(state)
        return None
    parts: dict[str, Any] = {}
    gone: list[str] = []
    for prefix, s in (("", state), (CARE, state.care)):
        if s is None:
            continue
        if s.changed is None:  # the care units' group, new since
            _all_parts(s, prefix, parts)
        else:
            parts[prefix + HEADER] = _header(s)
            for name in s.changed:
                value = part(s, name)
                if value is None:
                    gone.append(prefix + name)
                else:
                    parts[prefix + name] = value
        s.changed = {}
    return parts, gone


def from_parts(parts: dict[str, Any]) -> OrgState:
    """The state the parts make (`to_parts`' inverse)."""
    own = {n: v for n, v in parts.items() if not n.startswith(CARE)}
    care = {n[len(CARE):]: v for n, v in parts.items() if n.startswith(CARE)}
    state = _assembled(own)
    if care:
        state.care = _assembled(care)
    return state


def part(state: OrgState, name: str) -> Any:
    """One part's value; None: the state has no such part (any more)."""
    kind, _, rest = name.partition("/")
    if kind == "s":
        day, _, unit_id = rest.partition("/")
        figures = state.series.get(unit_id, {}).get(int(day))
        return _trimmed(figures) if figures is not None else None
    if kind == "u":
        return _unit(state, rest)
    if kind == "m":
        units = state.monitors.get(rest)
        return {u: s.to_dict() for u, s in units.items()} if units is not None else None
    if kind == "w":
        return state.snapshots.get(int(rest))
    if kind == FLAGS:
        return _flags(state)
    if kind == UNSENT:
        return _dumped(state.unsent)
    if kind == HEADER:
        return _header(state)
    raise ValueError(f"no organisation state part {name!r}")


def _clear(state: OrgState) -> None:
    state.changed = {}
    if state.care is not None:
        state.care.changed = {}


def _all_parts(state: OrgState, prefix: str, out: dict[str, Any]) -> None:
    out[prefix + HEADER] = _header(state)
    out[prefix + FLAGS] = _flags(state)
    if state.unsent:
        out[prefix + UNSENT] = part(state, UNSENT)
    for unit_id in _units(state):
        out[prefix + unit_part(unit_id)] = _unit(state, unit_id)
    for unit_id, series in state.series.items():
        for day, figures in series.items():
            out[prefix + series_part(unit_id, day)] = _trimmed(figures)
    for outcome, units in state.monitors.items():
        out[prefix + monitors_part(outcome)] = {u: s.to_dict() for u, s in units.items()}
    for week, snapshot in state.snapshots.items():
        out[prefix + snapshot_part(week)] = snapshot


def _units(state: OrgState) -> dict[str, None]:
    """Every unit the state knows, those of the series first in the series' order."""
    units = dict.fromkeys(state.series)
    for known in (state.unit_days, state.first_days, state.care_base, state.beds_base):
        units.update(dict.fromkeys(known))
    return units


def _header(state: OrgState) -> dict[str, Any]:
    return {"version": STATE_VERSION, "clock_day": state.clock_day, "evaluated_week": state.evaluated_week,
            "late_for_drift": state.late_for_drift, "origin_week": state.origin_week,
            "dirty_week": state.dirty_week, "restart": state.restart, "beds_from": state.beds_from,
            "outcomes": list(state.monitors)}


def _flags(state: OrgState) -> list[Any]:
    return _dumped(state.recent_flags.values())


def _dumped(flags: Iterable[Flag]) -> list[Any]:
    return [f.model_dump(mode="json") for f in flags]


def _unit(state: OrgState, unit_id: str) -> dict[str, Any] | None:
    d: dict[str, Any] = {}
    if unit_id in state.series:
        d["s"] = 1
    for key, known in (("d", state.unit_days), ("f", state.first_days), ("c", state.care_base),
                       ("b", state.beds_base)):
        if unit_id in known:
            d[key] = known[unit_id]
    return d or None


def _assembled(parts: dict[str, Any]) -> OrgState:
    header = parts[HEADER]
    if header.get("version") != STATE_VERSION:
        raise ValueError(f"unknown org state version {header.get('version')!r} in parts")
    state = OrgState(clock_day=int(header["clock_day"]), evaluated_week=int(header["evaluated_week"]),
                     late_for_drift=int(header["late_for_drift"]), origin_week=int(header["origin_week"]),
                     dirty_week=int(header["dirty_week"]), restart=bool(header["restart"]),
                     beds_from=int(header["beds_from"]))
    state.recent_flags = {f.flag_id: f for f in (Flag.model_validate(d) for d in parts.get(FLAGS, []))}
    state.unsent = [Flag.model_validate(d) for d in parts.get(UNSENT, [])]
    days: list[tuple[str, str, list[float]]] = []
    for name, value in parts.items():
        kind, _, rest = name.partition("/")
        if kind == "u":
            if value.get("s"):
                state.series[rest] = {}
            if "d" in value:
                state.unit_days[rest] = int(value["d"])
            if "f" in value:
                state.first_days[rest] = int(value["f"])
            if "c" in value:
                state.care_base[rest] = float(value["c"])
            if "b" in value:
                state.beds_base[rest] = float(value["b"])
        elif kind == "s":
            day, _, unit_id = rest.partition("/")
            days.append((unit_id, day, value))
        elif kind == "w":
            state.snapshots[int(rest)] = value
    for unit_id, day, figures in days:
        state.series[unit_id][int(day)] = day_figures(figures)
    for outcome in header["outcomes"]:
        units = parts.get(monitors_part(outcome), {})
        state.monitors[outcome] = {u: UnitDrift.from_dict(s) for u, s in units.items()}
    state.changed = {}
    return state


class OrgParts:
    """The organisation state's parts, for a table that writes them as deltas (agents/runtime/parted_state.py)."""

    def parts(self, state: OrgState) -> dict[str, Any]:
        return to_parts(state)

    def changes(self, state: OrgState) -> tuple[dict[str, Any], list[str]] | None:
        return take_changes(state)

    def assemble(self, parts: dict[str, Any]) -> OrgState:
        return from_parts(parts)
