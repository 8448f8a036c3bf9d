"""Scale-out on paper (section 5): a region's events per day, its morning peak and its tracked persons,
against one worker's measured throughput and memory per person."""

from __future__ import annotations


def scale_out(live_eps: float, rss_per_person: float) -> str:
    # A region of 2 million inhabitants and 100k employees, per day (assumptions stated in the text).
    employees, inhabitants = 100_000, 2_000_000
    sick = employees * 0.06  # 6% sick-leave rate: one sick_leave event per sick employee-day
    staffing = 2_000 / 30  # 2,000 units, one headcount report a month
    ed = inhabitants * 0.2 / 365  # 200 ED visits per 1000 inhabitants and year
    stays = inhabitants * 0.12 / 365 * 2  # 120 admissions per 1000 a year, admission + discharge
    home = 25_000 * 1.5  # 25,000 people in home care, 1.5 contacts a day
    per_day = sick + staffing + ed + stays + home
    peak = per_day / 86400 * 20  # a morning peak 20x the day's average rate
    persons = employees + 400_000  # everyone with an event in the windows: staff and care users
    workers = max(1, int(-(-peak // max(live_eps * 0.5, 1))))
    return f"""Assumptions (per day): {employees:,} employees with a 6% sick-leave rate give {sick:,.0f}
sick-leave days; 2,000 units report headcount monthly ({staffing:,.0f}); {inhabitants:,} inhabitants with
200 ED visits per 1000 a year give {ed:,.0f} visits and 120 admissions per 1000 give {stays:,.0f}
admission/discharge events; 25,000 people in home care with 1.5 contacts a day give {home:,.0f}.

- Events per day: **{per_day:,.0f}** (average {per_day / 86400:.2f}/s; a morning peak at 20x that is
  {peak:.0f}/s).
- One worker measured here drains **{live_eps:,.0f} events/s**; at half of that as a safety margin the
  peak needs **{workers} worker(s)**; a backfill of a year ({per_day * 365:,.0f} events) takes
  {per_day * 365 / live_eps / 3600:.1f} h on one worker.
- Tracked persons: about {persons:,} (staff plus care users within the windows); at
  {rss_per_person:,.0f} B of process memory each that is {persons * rss_per_person / 2**30:.2f} GiB for the person
  tables in total, split over the workers.
- Partitions: 8 (the default) leaves room for 8 workers, far above the need; more partitions only for
  faster recovery of the changelog-backed tables after a restart."""
