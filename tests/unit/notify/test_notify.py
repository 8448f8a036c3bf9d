"""Notifications: batched per route and window, routed by rule and unit, no personal data in any text."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.core.notify import Digest, FlagNotice, NotificationBatcher, NotificationRoute, inbox_link
from streams.models.flags import EventsInWindowEvidence, Flag, FlagStatus, WithdrawnBecause
from streams.models.vocab import Rule
from streams.notify import NotificationSettings, Notifier, SmtpSettings
from streams.notify.senders import email_message, webhook_body

INBOX = "https://inbox.example.se/inbox"
PSEUDONYM = re.compile(r"p_[0-9a-f]{8,}")
ALL = NotificationRoute(name="all", channel="webhook", target="https://hooks.example.se/all")
HR = NotificationRoute(name="hr", channel="email", target="hr@example.se",
                       rules=(Rule.REPEATED_SICK_LEAVE, Rule.LONG_SICK_LEAVE))
NORR = NotificationRoute(name="norr", channel="email", target="norr@example.se", units=("hemtjanst-norr",))
ED_NORR = NotificationRoute.model_validate({  # as configured: JSON, rules by name
    "name": "ed-norr", "channel": "webhook", "target": "http://127.0.0.1:1/x",
    "rules": ["frequent_emergency_visits"], "units": ["hemtjanst-norr", "hemtjanst-syd"]})
ROUTES = (ALL, HR, NORR, ED_NORR)


def flag(i: int, rule: Rule = Rule.FREQUENT_EMERGENCY_VISITS, unit: str = "hemtjanst-norr",
         status: FlagStatus = FlagStatus.RAISED) -> Flag:
    """A person flag as the worker publishes it: a pseudonym and evidence with event ids."""
    return Flag(
        flag_id=f"f_{i:024x}", rule=rule, unit_id=unit, subject_kind="person",
        subject_id=f"p_{i:032x}", raised_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        status=status, withdrawn_because=WithdrawnBecause.LATE_DATA if status is FlagStatus.WITHDRAWN else None,
        evidence=EventsInWindowEvidence(window_start=dt.date(2025, 1, 1), window_end=dt.date(2025, 3, 1),
                                        events=4, threshold=4, event_ids=[f"secret-event-{i}-{k}" for k in range(4)]),
    )


def batcher(routes: Iterable[NotificationRoute] = ROUTES, window_s: float = 60.0, **kw: object) -> NotificationBatcher:
    return NotificationBatcher(tuple(routes), window_s=window_s, inbox_url=INBOX,
                               unit_names={"hemtjanst-norr": "Hemtjänst Norr"}, **kw)  # type: ignore[arg-type]


def notices(flags: Iterable[Flag]) -> list[FlagNotice]:
    return [FlagNotice.of(f) for f in flags]


def by_route(digests: list[Digest]) -> dict[str, Digest]:
    assert len({d.route.name for d in digests}) == len(digests), "two digests for one route at once"
    return {d.route.name: d for d in digests}


def test_a_backfill_of_5000_flags_makes_one_message_per_route_per_window() -> None:
    b = batcher()
    units = ["hemtjanst-norr", "hemtjanst-syd"] + [f"unit-{k:02d}" for k in range(30)]
    # every rule in every unit (the rule changes once the units have all been named)
    flags = [flag(i, rule=list(Rule)[i // len(units) % len(Rule)], unit=units[i % len(units)]) for i in range(5000)]
    assert b.offer(notices(flags[:2500]), now=0.0) == 2500
    assert b.offer(notices(flags[2500:]), now=30.0) == 2500
    assert b.due(59.9) == []
    digests = by_route(b.due(60.0))
    assert set(digests) == {"all", "hr", "norr", "ed-norr"}
    assert b.due(60.0) == [] and b.due(10_000.0) == [] and b.pending() == {}

    everything = digests["all"]
    assert everything.total == 5000 and sum(u.count for u in everything.units) == 5000
    assert everything.text.startswith("5000 nya flaggor i 32 enheter / 5000 new flags in 32 units\n")
    assert everything.subject == "outcome-monitor: 5000 new flags"
    listed = [line for line in everything.text.splitlines() if f"{INBOX}?unit=" in line]
    assert len(listed) == 20  # max_units_listed, then one line for the rest
    assert "och 12 enheter till med" in everything.text and "/ and 12 more units with" in everything.text
    assert f"Hemtjänst Norr: {everything.units[0].count}  {INBOX}?unit=hemtjanst-norr" in everything.text
    assert everything.link == INBOX

    hr = digests["hr"]
    assert hr.total == sum(1 for f in flags if f.rule in (Rule.REPEATED_SICK_LEAVE, Rule.LONG_SICK_LEAVE))
    norr = digests["norr"]
    assert norr.total == sum(1 for f in flags if f.unit_id == "hemtjanst-norr")
    assert norr.text == (f"{norr.total} nya flaggor för Hemtjänst Norr / {norr.total} new flags for Hemtjänst Norr\n"
                         f"{INBOX}?unit=hemtjanst-norr\n")
    assert norr.link == f"{INBOX}?unit=hemtjanst-norr"
    ed = digests["ed-norr"]
    assert {u.unit_id for u in ed.units} == {"hemtjanst-norr", "hemtjanst-syd"}
    assert ed.total == sum(1 for f in flags if f.rule is Rule.FREQUENT_EMERGENCY_VISITS
                           and f.unit_id in ("hemtjanst-norr", "hemtjanst-syd"))


def test_routing_by_rule_and_unit_with_wildcards() -> None:
    assert ALL.matches(Rule.READMISSION_30D, "any-unit")
    assert HR.matches(Rule.LONG_SICK_LEAVE, "any-unit") and not HR.matches(Rule.READMISSION_30D, "any-unit")
    assert NORR.matches(Rule.READMISSION_30D, "hemtjanst-norr") and not NORR.matches(Rule.READMISSION_30D, "syd")
    assert ED_NORR.matches(Rule.FREQUENT_EMERGENCY_VISITS, "hemtjanst-syd")
    assert not ED_NORR.matches(Rule.LONG_SICK_LEAVE, "hemtjanst-syd")
    assert not ED_NORR.matches(Rule.FREQUENT_EMERGENCY_VISITS, "elsewhere")

    b = batcher()
    b.offer(notices([flag(1, Rule.READMISSION_30D, "elsewhere")]), now=0.0)
    assert b.pending() == {"all": 1}
    assert [d.route.name for d in b.flush(1.0)] == ["all"]


def test_one_flag_in_swedish_and_english_and_a_window_per_route() -> None:
    b = batcher([NORR], window_s=60.0)
    b.offer(notices([flag(1)]), now=100.0)
    (d,) = b.due(160.0)
    assert d.text == f"1 ny flagga för Hemtjänst Norr / 1 new flag for Hemtjänst Norr\n{INBOX}?unit=hemtjanst-norr\n"
    assert d.subject == "outcome-monitor: 1 new flag"
    # the next flag opens the next window: nothing before 60 s after it
    b.offer(notices([flag(2)]), now=170.0)
    assert b.due(229.0) == [] and len(b.due(230.0)) == 1


def test_duplicates_updates_and_withdrawals_do_not_notify() -> None:
    b = batcher([ALL])
    assert b.offer(notices([flag(1), flag(1), flag(2)]), now=0.0) == 2
    assert b.offer(notices([flag(1)]), now=10.0) == 0  # a re-send, or a revision of the same episode
    assert b.offer(notices([flag(3, status=FlagStatus.WITHDRAWN)]), now=10.0) == 0
    assert b.offer(notices([flag(2, status=FlagStatus.WITHDRAWN)]), now=20.0) == 0  # withdrawn while pending
    (d,) = b.due(60.0)
    assert d.total == 1 and d.flag_ids == (flag(1).flag_id,)
    assert b.offer(notices([flag(1), flag(2), flag(3)]), now=100.0) == 0  # seen before, whatever their status
    assert b.flush(1000.0) == []


def test_everything_withdrawn_before_the_window_ends_sends_nothing() -> None:
    b = batcher([ALL])
    b.offer(notices([flag(1)]), now=0.0)
    b.offer(notices([flag(1, status=FlagStatus.WITHDRAWN)]), now=1.0)
    assert b.pending() == {} and b.due(100.0) == []


def test_the_set_of_seen_ids_is_bounded() -> None:
    b = batcher([ALL], seen_capacity=3)
    b.offer(notices([flag(i) for i in range(10)]), now=0.0)
    assert len(b._seen) == 3
    assert b.offer(notices([flag(9)]), now=0.0) == 0  # recent ones are still known
    assert b.offer(notices([flag(0)]), now=0.0) == 1  # the oldest were forgotten


def test_no_personal_data_in_any_text_payload_or_email() -> None:
    b = batcher()
    flags = [flag(i, rule=list(Rule)[i % len(Rule)], unit=f"unit-{i % 25}") for i in range(300)]
    b.offer(notices(flags), now=0.0)
    smtp = SmtpSettings(host="127.0.0.1", port=2525, from_address="monitor@example.se", starttls=False)
    for d in b.flush(0.0):
        outputs = [d.text, d.subject, json.dumps(webhook_body(d), ensure_ascii=False),
                   email_message(d, smtp).as_string()]
        for text in outputs:
            assert not PSEUDONYM.search(text)
            assert "secret-event" not in text and "f_0000" not in text
            assert "evidence" not in text and "subject" not in text.replace("Subject:", "")


def test_the_unit_link_is_url_encoded() -> None:
    assert inbox_link(INBOX, "Hemtjänst Norr & Co") == f"{INBOX}?unit=Hemtj%C3%A4nst%20Norr%20%26%20Co"
    assert inbox_link(f"{INBOX}?lang=sv", "u1") == f"{INBOX}?lang=sv&unit=u1"


def test_route_and_settings_validation() -> None:
    with pytest.raises(ValidationError):
        NotificationRoute(name="x", channel="webhook", target="hr@example.se")
    with pytest.raises(ValidationError):
        NotificationRoute(name="x", channel="email", target="hr@example.se\r\nBcc: all@example.se")
    with pytest.raises(ValidationError):
        NotificationRoute.model_validate({"name": "x", "channel": "email", "target": "hr@example.se",
                                          "rules": ["no_such_rule"]})
    with pytest.raises(ValidationError):
        NotificationRoute(name="x", channel="email", target="hr@example.se", units=())
    with pytest.raises(ValidationError, match="needs notify.smtp"):
        NotificationSettings(routes=(HR,))
    with pytest.raises(ValidationError, match="unique"):
        NotificationSettings(routes=(ALL, ALL))
    with pytest.raises(ValidationError, match="never sent in clear"):
        SmtpSettings(host="h", from_address="a@b.se", starttls=False, user="u", password="p")  # type: ignore[arg-type]
    assert "hooks.example.se" not in repr(ALL)  # a webhook URL is often a secret


def test_nested_into_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """How streams/settings.py nests it: `notify: NotificationSettings = NotificationSettings()`."""

    class Like(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="OUTCOME_MONITOR_", env_nested_delimiter="__", frozen=True)
        notify: NotificationSettings = NotificationSettings()

    assert Like().notify.routes == ()
    routes = [{"name": "hr", "channel": "email", "target": "hr@example.se", "rules": ["long_sick_leave"],
               "units": ["*"]}]
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__ROUTES", json.dumps(routes))
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__WINDOW_S", "120")
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__INBOX_URL", INBOX)
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__UNIT_NAMES", '{"hemtjanst-norr": "Hemtjänst Norr"}')
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__SMTP__HOST", "smtp.example.se")
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__SMTP__FROM_ADDRESS", "monitor@example.se")
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__SMTP__PASSWORD", "s3cret")
    monkeypatch.setenv("OUTCOME_MONITOR_NOTIFY__SMTP__USER", "monitor")
    notify = Like().notify
    assert notify.routes[0].rules == (Rule.LONG_SICK_LEAVE,) and notify.window_s == 120.0
    assert notify.smtp is not None and notify.smtp.host == "smtp.example.se" and notify.smtp.port == 587
    assert notify.unit_names == {"hemtjanst-norr": "Hemtjänst Norr"}
    assert "s3cret" not in repr(notify)


class Recording:
    def __init__(self, ok: bool = True, boom: bool = False) -> None:
        self.sent: list[Digest] = []
        self.ok, self.boom = ok, boom

    async def send(self, digest: Digest) -> bool:
        if self.boom:
            raise RuntimeError("a sender that raises")
        self.sent.append(digest)
        return self.ok


def test_the_notifier_queues_on_offer_and_sends_on_tick() -> None:
    config = NotificationSettings(routes=(ALL, NORR), inbox_url=INBOX, window_s=60.0, smtp=SmtpSettings(
        host="127.0.0.1", from_address="monitor@example.se"))
    webhook, email = Recording(), Recording(boom=True)
    notifier = Notifier(config, senders={"webhook": webhook, "email": email})

    async def scenario() -> None:
        assert await notifier.offer([flag(i) for i in range(5)] + [flag(9, status=FlagStatus.WITHDRAWN)], now=0.0) == 5
        assert await notifier.tick(now=59.0) == 0 and webhook.sent == []
        assert await notifier.tick(now=60.0) == 1  # the e-mail sender raised: logged, not raised here
        assert notifier.delivered == 1 and notifier.failed == 1
        await notifier.offer([FlagNotice("f_x", Rule.READMISSION_30D, "syd")], now=70.0)
        assert await notifier.flush(now=71.0) == 1

    asyncio.run(scenario())
    assert [d.total for d in webhook.sent] == [5, 1]


def test_a_route_without_its_sender_is_refused() -> None:
    with pytest.raises(ValueError, match="no sender"):
        Notifier(NotificationSettings(routes=(ALL,)), senders={})


# Random flags (ids from a small pool, so duplicates happen) at random, increasing times, with ticks between.
ops = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=200.0, allow_nan=False),  # time step
        st.lists(st.tuples(st.integers(0, 60), st.sampled_from(list(Rule)),
                           st.sampled_from(["hemtjanst-norr", "hemtjanst-syd", "u3"])), max_size=30),
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=ops, window_s=st.sampled_from([1.0, 30.0, 60.0, 300.0]))
def test_never_more_than_one_message_per_route_per_window_and_every_flag_once(
        ops: list[tuple[float, list[tuple[int, Rule, str]]]], window_s: float) -> None:
    b = batcher(window_s=window_s)
    now, digests = 0.0, []
    first: dict[str, FlagNotice] = {}  # the first version of each id; odd ids come withdrawn, never raised
    for step, batch in ops:
        now += step
        offered = [FlagNotice(f"f_{i}", rule, unit, open=i % 2 == 0) for i, rule, unit in batch]
        for n in offered:
            first.setdefault(n.flag_id, n)
        b.offer(offered, now)
        made = b.due(now)
        by_route(made)
        digests += made
    ticked = list(digests)
    digests += b.flush(now + window_s)

    for route in ROUTES:
        mine = [d for d in ticked if d.route.name == route.name]
        for earlier, later in zip(mine, mine[1:], strict=False):
            assert later.at - earlier.at >= window_s
        for d in mine:
            assert d.at - d.opened_at >= window_s
        counted = Counter(i for d in digests if d.route.name == route.name for i in d.flag_ids)
        expected = {n.flag_id for n in first.values() if n.open and route.matches(n.rule, n.unit_id)}
        assert set(counted) == expected and all(c == 1 for c in counted.values())
        assert sum(d.total for d in digests if d.route.name == route.name) == len(expected)
