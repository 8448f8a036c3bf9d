"""One page of the inbox's list: the filters (status, rule, unit, raised between two days), the order and
the page, read from a query string's parameters, so that a view is a URL that can be shared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from streams.core.handling.board import Filter, FlagEntry
from streams.core.timebase import day_start
from streams.models.handling import HandlingStatus

PER_PAGE = 50
MAX_PER_PAGE = 200
#: sort keys: `raised` (when the condition became true), `unit`, `rule`, `status`; a leading `-`: descending
SORTS = ("raised", "unit", "rule", "status")
DEFAULT_SORT = "-raised"


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: Filter = Filter()
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True, slots=True)
class ListPage:
    entries: list[FlagEntry]
    total: int
    page: int
    pages: int


def _day(params: Mapping[str, str], name: str) -> dt.date | None:
    value = params.get(name) or ""
    return dt.date.fromisoformat(value) if value else None


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name) or ""
    if not value:
        return default
    n = int(value)
    if not low <= n <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return n


def parse_query(params: Mapping[str, str], tz: str) -> ListQuery | str:
    """The list's query, or what is wrong with it (for a 400). `raised_from` and `raised_to` are days
    (yyyy-mm-dd, both included) in the monitor's time zone, as the page shows them."""
    try:
        status = HandlingStatus(params["status"]) if params.get("status") else None
    except ValueError:
        return f"status must be one of {[s.value for s in HandlingStatus]}"
    try:
        first, last = _day(params, "raised_from"), _day(params, "raised_to")
    except ValueError:
        return "raised_from and raised_to are days written yyyy-mm-dd"
    if first and last and last < first:
        return "raised_to is before raised_from"
    sort = params.get("sort") or DEFAULT_SORT
    if sort.removeprefix("-") not in SORTS:
        return f"sort must be one of {list(SORTS)}, with a leading '-' for descending"
    try:
        page = _int(params, "page", 1, 1, 1_000_000)
        per_page = _int(params, "per_page", PER_PAGE, 1, MAX_PER_PAGE)
    except ValueError as exc:
        return str(exc) if "between" in str(exc) else "page and per_page are whole numbers"
    flt = Filter(status, params.get("rule") or None, params.get("unit") or None,
                 day_start(first.toordinal(), tz) if first else None,
                 day_start(last.toordinal() + 1, tz) if last else None)
    return ListQuery(flt, sort, page, per_page)


def page_of(found: list[FlagEntry], query: ListQuery, status_of: Callable[[str], HandlingStatus]) -> ListPage:
    """`found` as a listing gives it (newest first, then by id) sorted by the query's key (ties keep that
    order, so a page is stable), then cut."""
    key, descending = query.sort.removeprefix("-"), query.sort.startswith("-")
    ordered = list(found)
    if key != "raised":
        field: dict[str, Callable[[FlagEntry], str]] = {
            "unit": lambda e: e.flag.unit_id, "rule": lambda e: e.flag.rule.value,
            "status": lambda e: status_of(e.flag.flag_id).value}
        ordered.sort(key=field[key], reverse=descending)  # stable: ties keep newest first
    elif not descending:
        ordered.reverse()
    pages = max(1, -(-len(ordered) // query.per_page))
    page = min(query.page, pages)
    start = (page - 1) * query.per_page
    return ListPage(ordered[start:start + query.per_page], len(ordered), page, pages)
