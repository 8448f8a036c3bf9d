"""Care units as the field's histories come, simulated per person and day (vectorised): persons enter a
unit's care and leave it (die, move), frail persons and personal risk, bad months per person (a spell in
which their ED visits and admissions are several times as frequent), home care for some (a contact every
few days), the organisation's winter excess and trend (`field_world.World`). Monitoring begins with the
history: the care population the monitor sees is the persons with a care event in the last 365 days of
the history (it fills from zero over the first year), a stay going on when the history begins is seen
at its discharge only (its bed-days are not counted: its admission was never seen)."""

from __future__ import annotations

from benchmarks.drift.care_units import ADMISSIONS_PER_YEAR, ED_PER_YEAR, PLANNED_SHARE, READMIT_P, STAY_DAYS
from benchmarks.drift.field_world import BURN_IN_DAYS, World
from streams.core.unit.summary import DaySummary
from streams.core.unit.tracker import POPULATION_WINDOW_DAYS

READMISSION_DAYS = 30
NEVER = -10_000  # a day before any simulated (the burn-in's days are negative: -1 is one of them)


def care_units(rng: object, world: World, sizes: list[int], step: tuple[int, int, str] | None,
               doubling: tuple[float, float] = (2.0, 1.0)) -> list[DaySummary]:
    """Unit-days of care units of about `sizes` persons in care; `step`: (unit, first day, outcome) that
    doubles: ED visits (their rate), or inpatient days, the bed-days of unplanned stays per person in care
    (`doubling`: its admissions' and its stays' factors, `inpatient_doubling`)."""
    import numpy as np

    assert isinstance(rng, np.random.Generator)
    more_admissions, longer_stays = doubling
    units = len(sizes)
    unit_of = np.repeat(np.arange(units), sizes)
    p = unit_of.size
    frail_share = float(rng.uniform(0.05, 0.15))
    leave_rate = float(rng.uniform(0.15, 0.6)) / 365
    home_share = rng.uniform(0.05, 0.5, units)  # per unit: how many of its persons have home care
    season = float(rng.uniform(0.3, 1.0))  # the care winter's share of the workplaces' excess

    def draw(idx: np.ndarray) -> None:
        frail[idx] = rng.random(idx.size) < frail_share
        risk[idx] = rng.lognormal(-0.125, 0.5, idx.size)
        home[idx] = rng.random(idx.size) < home_share[unit_of[idx]]
        seen_last[idx] = -10_000
        spell_end[idx] = -10_000
        last_discharge[idx], counted[idx], scheduled[idx] = NEVER, True, NEVER

    frail, risk = np.zeros(p, dtype=int), np.zeros(p)
    home = np.zeros(p, dtype=bool)
    seen_last = np.zeros(p, dtype=int)  # the person's last care event the monitor saw (-10_000: none)
    spell_end = np.zeros(p, dtype=int)
    stay_end, adm_day = np.full(p, -10_000), np.full(p, -10_000)
    adm_seen = np.zeros(p, dtype=bool)
    scheduled, last_discharge = np.zeros(p, dtype=int), np.zeros(p, dtype=int)
    counted = np.ones(p, dtype=bool)
    draw(np.arange(p))
    ed_rate = np.array(ED_PER_YEAR) / 365
    adm_rate = np.array(ADMISSIONS_PER_YEAR) / 365
    readmit_p = np.array(READMIT_P)
    stay_lo = np.array([s[0] for s in STAY_DAYS])
    stay_hi = np.array([s[1] for s in STAY_DAYS]) + 1
    days = world.days + POPULATION_WINDOW_DAYS + 1  # leavings of the population run a year past the end
    ed, readm, dis, ipd, change, beds = (np.zeros((units, days)) for _ in range(6))
    for t in range(-BURN_IN_DAYS, world.days):
        observed = t >= 0
        common = 1 + season * (world.common(t) - 1)
        spell_end = np.where((spell_end < t) & (rng.random(p) < world.spell_rate / 365),
                             t + rng.integers(30, 91, p), spell_end)
        personal = risk * common * np.where(spell_end > t, world.spell_factor, 1.0)
        ed_mult = np.ones(p)
        adm_mult = np.ones(p)
        length_mult = np.ones(p)
        if step is not None and t >= step[1]:
            target = unit_of == step[0]
            if step[2] == "ed_visits":
                ed_mult = np.where(target, 2.0, 1.0)
            else:
                # The unit's own persons (in its care) are admitted unplanned more often, readmitted more
                # often, and stay longer: a change of the unit, not of who comes into its care.
                in_care = target & (seen_last >= t - POPULATION_WINDOW_DAYS + 1)
                adm_mult = np.where(in_care, more_admissions, 1.0)
                length_mult = np.where(target, longer_stays, 1.0)
        events = np.zeros(p, dtype=bool)
        visits = rng.poisson(ed_rate[frail] * personal * ed_mult)
        events |= visits > 0
        out = np.flatnonzero(stay_end == t)
        if out.size and observed:
            np.add.at(dis[:, t], unit_of[out], 1)
            unplanned_seen = out[adm_seen[out]]
            np.add.at(ipd[:, t], unit_of[unplanned_seen], t - adm_day[unplanned_seen])
            last_discharge[out], counted[out] = t, False
        if out.size:
            events[out] = True
            again = out[rng.random(out.size) < readmit_p[frail[out]] * adm_mult[out]]
            scheduled[again] = t + rng.integers(3, 26, again.size)
        free = stay_end < t
        rate = adm_rate[frail] * personal
        unplanned = free & ((rng.random(p) < rate * (1 - PLANNED_SHARE) * adm_mult) | (scheduled == t))
        planned = free & ~unplanned & (rng.random(p) < rate * PLANNED_SHARE)
        admitted = np.flatnonzero(unplanned | planned)
        if admitted.size:
            index = np.flatnonzero(unplanned & ~counted & (last_discharge >= t - READMISSION_DAYS))
            if observed:
                np.add.at(readm, (unit_of[index], last_discharge[index]), 1)
            counted[index] = True
            f = frail[admitted]
            length = rng.integers(stay_lo[f], stay_hi[f])
            longer = unplanned[admitted] & (length_mult[admitted] != 1.0)
            if longer.any():  # (no draw otherwise: the runs share their history up to the onset)
                stretched = length * length_mult[admitted] + rng.random(admitted.size)
                length = np.where(longer, np.floor(stretched).astype(int), length)
            stay_end[admitted] = t + length
            adm_day[admitted] = t
            adm_seen[admitted] = observed & unplanned[admitted]
            # The monitor's beds of unplanned stays: one from an admission it saw to the stay's discharge.
            occupied = admitted[adm_seen[admitted]]
            np.add.at(beds[:, t], unit_of[occupied], 1.0)
            np.add.at(beds, (unit_of[occupied], stay_end[occupied]), -1.0)
            scheduled[admitted] = NEVER
            events[admitted] = True
        events |= home & (rng.random(p) < 0.3)  # a home-care contact
        if observed:
            np.add.at(ed[:, t], unit_of, visits)
            # The monitor's care population: a person counts from a care event for 365 days after the last.
            seen = np.flatnonzero(events)
            fresh = seen[seen_last[seen] < t - POPULATION_WINDOW_DAYS + 1]
            np.add.at(change[:, t], unit_of[fresh], 1.0)
            lapsed_old = seen[seen_last[seen] >= t - POPULATION_WINDOW_DAYS + 1]
            np.add.at(change, (unit_of[lapsed_old], seen_last[lapsed_old] + POPULATION_WINDOW_DAYS), 1.0)
            np.add.at(change, (unit_of[seen], t + POPULATION_WINDOW_DAYS), -1.0)
            seen_last[seen] = t
        # Someone at home leaves the unit's care, and another person enters it.
        leave = np.flatnonzero(free & (rng.random(p) < leave_rate * np.where(frail == 1, 2.0, 1.0)))
        if leave.size:
            draw(leave)
    rows = []
    for u in range(units):
        unit = f"care-unit-{u:02d}"
        for t in range(world.days):  # a leaving after the history's end is not sent (not settled)
            if change[u, t] or ed[u, t] or readm[u, t] or dis[u, t] or ipd[u, t] or beds[u, t]:
                rows.append(DaySummary(unit, world.start + t, 0.0, 0.0, 0, float(ed[u, t]), float(readm[u, t]),
                                       float(dis[u, t]), float(ipd[u, t]), float(change[u, t]),
                                       float(beds[u, t])))
    return sorted(rows, key=lambda s: (s.day, s.unit_id))


def inpatient_doubling(rng: object) -> tuple[float, float]:
    """How a unit's inpatient days double, drawn per run: unplanned admissions and readmissions of the
    persons in its care x a, its unplanned stays x 2 / a in length, a = 2^u with u uniform in 0-1 (all
    from more admissions, all from longer stays, or any mix). Doubling the admission hazard of everyone
    instead brings persons into the care population with their stays (a rate per person in care that rose
    only 1.2-1.9x): a smaller change than the doubling of inpatient days it stands for."""
    import numpy as np

    assert isinstance(rng, np.random.Generator)
    a = float(2.0 ** rng.uniform(0.0, 1.0))
    return a, 2.0 / a
