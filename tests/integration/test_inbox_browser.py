"""The inbox page as a recipient uses it (issue 13), in headless Chromium driven by Selenium, against a real
worker and a real Kafka broker: sign in (by keyboard), see flags raised by events published to Kafka,
open one's evidence, reveal who it is (audited, never stored), resolve it as a false alarm, and see the
result everywhere it must show: gone from the open list, the action on the flag-actions topic, the audit
log, and the false-alarm share on /metrics. Then the same page in Swedish.

Needs Debian's `chromium` and `chromium-driver`: skipped without them, failed without them when CI is set.
Screenshots go to $OUTCOME_MONITOR_SCREENSHOTS (default: the test's tmp_path).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver import Chrome
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from streams.core.pseudonym import Pseudonymiser
from streams.models.flags import DriftEvidence, EventsInWindowEvidence, Interval, SickLeaveEvidence, WeekFigure
from streams.observe.metric_names import MetricName
from tests.helpers import DAY0, event
from tests.integration.inbox import Api, ed_visits, ns_inbox_topics, serving_worker, token, write_events
from tests.integration.live import PSEUDONYM_KEY, Namespace, Worker, publish_file, read_topic

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 60  # for the page; conditions, not sleeps: a pass is as fast as the page
RULE = "frequent_emergency_visits"
I18N_EN_RULES = {"unit_sick_leave_drift": "Sick leave rising in the unit", "long_sick_leave": "Long sick leave",
                 "repeated_sick_leave": "Repeated short sick leave"}
PSEUDONYM = Pseudonymiser(PSEUDONYM_KEY.encode())
T = TypeVar("T")


def require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = (f"the inbox browser test needs {' and '.join(missing)}: install the Debian packages "
                   "`chromium` and `chromium-driver` (apt-get install -y --no-install-recommends chromium "
                   "chromium-driver)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def event_ids(lines: list[str]) -> list[str]:
    return [str(json.loads(line)["event_id"]) for line in lines]


@dataclass
class Stack:
    ns: Namespace
    worker: Worker
    api: Api
    resolve_me: str  # flag ids, by what the test does with them
    stays_open: str
    readmission: str
    resolve_me_events: list[str]
    elsewhere: str  # in another unit, raised in July
    elsewhere_events: list[str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_browser()
    workdir = tmp_path_factory.mktemp("inbox-browser")
    with serving_worker(workdir) as (ns, worker, api):
        first, second = ed_visits("pat-b1", "unit-care", 12), ed_visits("pat-b2", "unit-care", 20)
        fourth = ed_visits("pat-b4", "unit-care-b", 100)  # days 100-190: raised 2025-07-15
        readmitted = [event("admission", 40, person_id="pat-b3", unit_id="unit-care", stay_id="b3-s1"),
                      event("discharge", 45, person_id="pat-b3", unit_id="unit-care", stay_id="b3-s1"),
                      event("admission", 55, person_id="pat-b3", unit_id="unit-care", stay_id="b3-s2")]
        publish_file(ns, write_events(workdir / "events.jsonl", first + second + readmitted + fourth))
        flags = api.wait_flags("cecilia.care", lambda fl: len(fl) == 4)
        by_subject = {f["subject_id"]: f["flag_id"] for f in flags}
        yield Stack(ns, worker, api, by_subject[PSEUDONYM("pat-b1")], by_subject[PSEUDONYM("pat-b2")],
                    by_subject[PSEUDONYM("pat-b3")], event_ids(first), by_subject[PSEUDONYM("pat-b4")],
                    event_ids(fourth))


@pytest.fixture
def driver() -> Iterator[Chrome]:
    require_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield d
    finally:
        d.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    path = Path(os.environ.get("OUTCOME_MONITOR_SCREENSHOTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- page helpers


def until(d: Chrome, condition: Callable[[Chrome], T], what: str, timeout: float = WAIT_S) -> T:
    """Wait for a condition of the page; on timeout say what was awaited and what the page showed."""
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.2,
                             ignored_exceptions=(StaleElementReferenceException,)).until(condition)
    except TimeoutException:
        error = d.execute_script("return document.getElementById('error-msg').textContent")
        raise AssertionError(f"waited {timeout}s for {what}; page error region: {error!r}; "
                             f"console: {d.get_log('browser')}") from None


def by_id(d: Chrome, element_id: str) -> WebElement:
    return d.find_element(By.ID, element_id)


def rows(d: Chrome) -> dict[str, WebElement]:
    """The visible list: flag id -> its row."""
    return {str(r.get_attribute("data-flag-id")): r
            for r in d.find_elements(By.CSS_SELECTOR, "#flag-rows tr[data-testid=flag-row]")}


def text_of(d: Chrome, element_id: str) -> str:
    return str(d.execute_script("return document.getElementById(arguments[0]).textContent", element_id))


def shown(d: Chrome, element_id: str) -> bool:
    return bool(by_id(d, element_id).is_displayed())


def sign_in(d: Chrome, worker: Worker, user: str) -> None:
    d.get(worker.url("/inbox"))
    until(d, lambda d: shown(d, "token"), "the token field")
    by_id(d, "token").send_keys(token(user))
    by_id(d, "signin-button").click()
    until(d, lambda d: shown(d, "app") and rows(d), f"{user}'s flags")


def open_flag(d: Chrome, flag_id: str) -> None:
    button = d.find_element(By.CSS_SELECTOR, f"button[data-testid=open-flag][data-flag-id='{flag_id}']")
    button.send_keys(Keys.ENTER)  # a real button: Enter opens it
    until(d, lambda d: shown(d, "detail") and by_id(d, "detail").get_attribute("data-flag-id") == flag_id,
          f"flag {flag_id} opened")


def screenshot(d: Chrome, path: Path) -> None:
    """The whole page, not only the window (Chrome's DevTools capture beyond the viewport)."""
    size = d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    # the capture lays the page out without its scrollbar: as wide as the window, not the content was
    width = max(size["width"], d.execute_script("return window.innerWidth"))
    clip = {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}
    shot = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path.write_bytes(base64.b64decode(shot["data"]))


def console_errors(d: Chrome) -> list[dict[str, Any]]:
    """Script errors and CSP violations; an HTTP error the page was meant to show (the 401) is not one."""
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]


# ---------------------------------------------------------------- /metrics

LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def resolved_series(worker: Worker, rule: str) -> list[tuple[dict[str, str], float]]:
    """outcome_flags_resolved for one rule, as (labels, value), from the worker's /metrics."""
    out = []
    for key, value in worker.metrics().items():
        name, _, labels = key.partition("{")
        found = dict(LABEL.findall(labels))
        if name == MetricName.FLAGS_RESOLVED and found.get("rule") == rule:
            out.append((found, value))
    return out


def false_alarm_share(worker: Worker, rule: str) -> float:
    """False alarms over all resolved flags of the rule, summed over unit labels; 0 when none resolved."""
    series = resolved_series(worker, rule)
    total = sum(v for _, v in series)
    return sum(v for labels, v in series if labels.get("resolution") == "false_alarm") / total if total else 0.0


# ---------------------------------------------------------------- the tests


def test_a_recipient_signs_in_reads_the_evidence_and_resolves_a_flag_as_a_false_alarm(
        stack: Stack, driver: Chrome, shots: Path) -> None:
    d, flag_id = driver, stack.resolve_me
    share_before = false_alarm_share(stack.worker, RULE)
    assert share_before == 0.0, resolved_series(stack.worker, RULE)

    # sign in with the keyboard only: tab to the token field, type, Enter (a wrong token first: 401 shown)
    d.get(stack.worker.url("/inbox"))
    until(d, lambda d: shown(d, "token"), "the sign-in form")
    assert d.find_element(By.CSS_SELECTOR, "label[for=token]").text == "Access token"
    assert by_id(d, "token").get_attribute("type") == "password"
    assert d.switch_to.active_element.get_attribute("id") == "token"  # where a fresh page puts the focus
    d.execute_script("document.querySelector('a.skip').focus()")  # the first stop of the page's tab order
    focused: list[str] = []
    for _ in range(2):  # the language toggle, then the token field: nothing hidden in between
        ActionChains(d).send_keys(Keys.TAB).perform()
        focused.append(str(d.switch_to.active_element.get_attribute("id")))
    assert focused == ["lang-toggle", "token"], f"the tab order from the top: {focused}"
    ActionChains(d).send_keys("not-a-token", Keys.ENTER).perform()
    until(d, lambda d: "401" in text_of(d, "error-msg"), "the 401 of a wrong token in the alert region")
    assert by_id(d, "error-msg").get_attribute("aria-live") == "assertive"
    assert d.switch_to.active_element.get_attribute("id") == "token"
    ActionChains(d).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    ActionChains(d).send_keys(token("cecilia.care"), Keys.ENTER).perform()
    until(d, lambda d: set(rows(d)) == {stack.resolve_me, stack.stays_open, stack.readmission, stack.elsewhere},
          "cecilia's four open flags")
    assert text_of(d, "list-h") == "My open flags"
    assert text_of(d, "who") == "Signed in as cecilia.care (care)"
    row = rows(d)[flag_id]
    assert "Frequent emergency visits" in row.text and "Open" in row.text and "unit-care" in row.text
    assert "Readmission after discharge" in rows(d)[stack.readmission].text
    assert "pat-" not in d.page_source  # pseudonyms only
    assert d.execute_script("return sessionStorage.getItem('outcome-monitor.inbox.token')") == token("cecilia.care")
    assert token("cecilia.care") not in json.dumps(d.execute_script("return {...localStorage}"))
    screenshot(d, shots / "inbox-list.png")

    # the evidence: the rule in words, the window with the count against the threshold, the event ids
    open_flag(d, flag_id)
    assert d.switch_to.active_element.get_attribute("id") == "detail-h"  # focus follows to the flag
    assert text_of(d, "detail-h") == "Frequent emergency visits"
    assert "4 emergency-department visits" in text_of(d, "rule-meaning")
    assert "flags 4 or more visits" in text_of(d, "rule-meaning")
    evidence = by_id(d, "evidence")
    assert "4 emergency visits; the rule flags at 4." in evidence.text
    assert len(evidence.find_elements(By.CSS_SELECTOR, "[data-testid=event-marker]")) == 4
    assert [e.text for e in evidence.find_elements(By.CSS_SELECTOR, "[data-testid=event-id]")] == \
        stack.resolve_me_events
    assert evidence.find_element(By.CSS_SELECTOR, "[data-testid=timeline]").get_attribute("aria-label")
    assert len(d.find_elements(By.CSS_SELECTOR, "[data-testid=version-row]")) == 1
    assert shown(d, "history-empty")
    assert PSEUDONYM("pat-b1") in d.find_element(By.CSS_SELECTOR, "[data-testid=pseudonym]").text
    # the readmission's evidence renders too (a different kind)
    open_flag(d, stack.readmission)
    assert "admitted again, unplanned, 10 days later" in by_id(d, "evidence").text
    open_flag(d, flag_id)
    screenshot(d, shots / "inbox-flag.png")

    # reveal: only on demand, with a reason, and never kept by the page
    by_id(d, "reveal-start").click()
    until(d, lambda d: d.switch_to.active_element.get_attribute("id") == "reveal-reason", "the reason field")
    d.switch_to.active_element.send_keys("Vårdplanering med hemtjänsten", Keys.TAB, Keys.ENTER)
    until(d, lambda d: text_of(d, "reveal-value") == "pat-b1", "the revealed source key")
    stored = d.execute_script("return JSON.stringify([{...sessionStorage}, {...localStorage}])")
    assert "pat-b1" not in stored
    by_id(d, "reveal-hide").click()
    assert "pat-b1" not in d.page_source

    # resolving needs an outcome: the page says so and sends nothing
    by_id(d, "do-resolve").click()
    until(d, lambda d: "Choose an outcome" in text_of(d, "error-msg"), "the missing outcome said")
    by_id(d, "res-false_alarm").click()
    by_id(d, "note").send_keys("Planned check-ups, not acute.")
    by_id(d, "do-resolve").click()
    until(d, lambda d: flag_id not in rows(d) and stack.stays_open in rows(d), "the flag gone from the open list")
    until(d, lambda d: "Resolved: False alarm" in text_of(d, "detail-facts"), "the detail resolved")
    assert text_of(d, "status-msg") == "The flag is resolved: False alarm."
    assert text_of(d, "error-msg") == ""
    history = d.find_elements(By.CSS_SELECTOR, "[data-testid=history-row]")
    assert [(h.get_attribute("data-action"), "cecilia.care" in h.text, "False alarm" in h.text) for h in history] == \
        [("resolve", True, True)]
    assert not shown(d, "actions") and "Nothing more to do" in text_of(d, "closed-note")
    # the filters: resolved ones, and one rule across all statuses
    Select(by_id(d, "f-status")).select_by_value("resolved")
    by_id(d, "f-apply").click()
    until(d, lambda d: set(rows(d)) == {flag_id}, "the resolved list")
    assert "Resolved" in rows(d)[flag_id].text and text_of(d, "list-h") == "My resolved flags"
    Select(by_id(d, "f-status")).select_by_value("")
    Select(by_id(d, "f-rule")).select_by_value("readmission_30d")
    by_id(d, "f-apply").click()
    until(d, lambda d: set(rows(d)) == {stack.readmission}, "the readmission flags")
    assert console_errors(d) == []

    # on Kafka: the action on the flag-actions topic, keyed by the flag
    topics = ns_inbox_topics(stack.ns)
    actions = [json.loads(v) for k, v in read_topic(topics["flag-actions"]) if k == flag_id.encode()]
    assert [(a["action"], a["by"], a["resolution"], a["note"]) for a in actions] == [
        ("resolve", "cecilia.care", "false_alarm", "Planned check-ups, not acute.")]
    # the audit: on its topic and through the API, the read, the reveal (with its reason) and the action
    audit = [json.loads(v) for _, v in read_topic(topics["audit"])]
    (shots / "audit-after-browser-test.jsonl").write_text("".join(json.dumps(e) + "\n" for e in audit))
    mine = {(e["kind"], e["reason"]) for e in audit if e["user"] == "cecilia.care" and e["flag_ids"] == [flag_id]}
    assert {("read", ""), ("reveal", "Vårdplanering med hemtjänsten"), ("action", "resolve")} <= mine, mine
    answer = stack.api.get(f"/api/audit?flag_id={flag_id}&user=cecilia.care", "ada.admin")
    assert answer.status == 200
    assert {"list", "read", "reveal", "action"} <= {e["kind"] for e in answer.body["entries"]}

    # /metrics: the false-alarm share of the rule went from 0 to 1 (small units are summed as "other")
    def share_is_one(_: object) -> bool:
        return false_alarm_share(stack.worker, RULE) == 1.0

    try:
        WebDriverWait(d, WAIT_S, poll_frequency=0.5).until(share_is_one)
    except TimeoutException:
        raise AssertionError(f"false-alarm share of {RULE} on /metrics: {false_alarm_share(stack.worker, RULE)}; "
                             f"series: {resolved_series(stack.worker, RULE)}") from None
    resolved = {labels["unit"] for labels, v in resolved_series(stack.worker, RULE) if v > 0}
    assert resolved == {"other"}  # unit-care has three persons in care: below the minimum group size


def test_the_page_in_swedish_keeps_the_language_and_signs_out(stack: Stack, driver: Chrome) -> None:
    d = driver
    sign_in(d, stack.worker, "cecilia.care")
    en, sv = d.execute_script("return [Object.keys(I18N.en).sort(), Object.keys(I18N.sv).sort()]")
    assert en == sv, f"only in one language: {set(en) ^ set(sv)}"
    toggle = by_id(d, "lang-toggle")
    assert toggle.text == "Svenska" and toggle.get_attribute("lang") == "sv"
    toggle.send_keys(Keys.ENTER)
    until(d, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "sv", "the page in Swedish")
    assert by_id(d, "sign-out").text == "Logga ut" and by_id(d, "lang-toggle").text == "English"
    assert text_of(d, "list-h") == "Mina öppna flaggor"
    assert d.find_element(By.CSS_SELECTOR, "label[for=f-rule]").text == "Regel"
    open_flag(d, stack.stays_open)
    assert text_of(d, "detail-h") == "Täta akutbesök"
    assert "4 akutbesök; regeln flaggar vid 4." in by_id(d, "evidence").text
    assert by_id(d, "do-resolve").text == "Avsluta"
    assert d.find_element(By.CSS_SELECTOR, "label[for=note]").text.startswith("Anteckning")
    # a reload keeps the sign-in (this tab's sessionStorage) and the language
    d.refresh()
    until(d, lambda d: shown(d, "app") and stack.stays_open in rows(d), "the list after a reload")
    assert text_of(d, "list-h") == "Mina öppna flaggor"
    by_id(d, "sign-out").click()
    until(d, lambda d: shown(d, "token"), "the sign-in form after signing out")
    assert text_of(d, "status-msg") == "Du är utloggad."
    assert d.execute_script("return sessionStorage.length") == 0
    assert not d.find_elements(By.CSS_SELECTOR, "#flag-rows tr") and not shown(d, "app")
    assert console_errors(d) == []


def test_every_kind_of_evidence_in_the_contract_renders(stack: Stack, driver: Chrome, shots: Path) -> None:
    """The kinds no live flag of this module has (a drifting unit, a long sick leave, a generic window
    rule), built from the flag contract's own models and shown in a real flag's detail view."""
    d = driver
    sign_in(d, stack.worker, "ada.admin")
    open_flag(d, stack.stays_open)
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    cases: list[tuple[str, str, BaseModel, list[str]]] = [
        ("unit_sick_leave_drift", "unit",
         DriftEvidence(detector="cusum", signal="occasions", window_start=dt.date(2025, 3, 3),
                       window_end=dt.date(2025, 3, 9), baseline_ratio=1.1, current_ratio=2.3,
                       current_interval=Interval(low=1.6, high=3.2), observed=12, expected=5.2,
                       unit_sick_leave_rate=0.061, rest_sick_leave_rate=0.039, headcount=25, statistic=6.4,
                       threshold=5.0),
         ["Usual level: 1.1 × the rest", "Now, 2025-03-03 – 2025-03-09: 2.3 × the rest (interval 1.6 – 3.2, 95 %",
          "Observed 12 new sick-leave occasions; expected 5.2", "the unit 6.1 %, the rest 3.9 %. Headcount 25."]),
        ("long_sick_leave", "person",
         SickLeaveEvidence(window_start=start, window_end=end, occasions=2, sick_days=19.5, bradford_factor=78,
                           occasion_days=15, threshold=15, event_ids=["s-1"]),
         ["15 calendar days in one occasion; the rule flags at 15.", "2 occasions, 19.5 sick days"]),
        ("repeated_sick_leave", "person",
         EventsInWindowEvidence(window_start=start, window_end=end, events=7, threshold=6,
                                event_ids=[f"x-{i}" for i in range(7)]),
         ["7 events; the rule flags at 6.", "x-6"]),
    ]
    for rule, kind, evidence, expected in cases:
        d.execute_script("""
            const [rule, kind, evidence] = arguments;
            S.detail = {...S.detail, rule, subject_kind: kind, subject_id: kind === 'unit' ? 'unit-x' : 'p_x',
                        flag: {...S.detail.flag, rule, subject_kind: kind, evidence}};
            renderDetail();""", rule, kind, evidence.model_dump(mode="json"))
        shown_text = by_id(d, "evidence").text
        for part in expected:
            assert part in shown_text, (rule, part, shown_text)
        assert text_of(d, "detail-h") == I18N_EN_RULES[rule]
        assert shown(d, "reveal-section") == (kind == "person")  # a unit is nobody to reveal
    assert console_errors(d) == []


# ---------------------------------------------------------------- working from the inbox all day

LAYOUT_JS = """
// What a reader would see as broken: a cell whose text is cut (wider than its box), a cell or header
// whose text wraps onto a second line, a table wider than its frame (the last columns out of sight).
const out = [];
const page = document.documentElement;
if (page.scrollWidth > page.clientWidth) out.push(`page ${page.scrollWidth}px in a ${page.clientWidth}px window`);
const wrap = document.getElementById('flag-table-wrap');
const columns = [...document.querySelectorAll('#flag-table th')].map((c) => Math.round(c.offsetWidth)).join(' ');
if (wrap.scrollWidth > wrap.clientWidth + 1) {
  out.push(`table ${wrap.scrollWidth}px in a ${wrap.clientWidth}px frame: columns ${columns}`);
}
for (const cell of document.querySelectorAll('#flag-table th, #flag-table td')) {
  const style = getComputedStyle(cell);
  const line = parseFloat(style.lineHeight);
  const inner = cell.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const tops = [];  // of the text's line boxes: a line further down than most of a line is a second line
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
  }
  tops.sort((a, b) => a - b);
  const lines = tops.length ? 1 + tops.filter((x, i) => i && x - tops[i - 1] > 0.6 * line).length : 0;
  if (cell.scrollWidth > cell.clientWidth + 1) out.push(`cut: ${cell.textContent}`);
  if (lines > 1 || inner > 1.9 * line) out.push(`wraps (${lines} lines, ${inner}px): ${cell.textContent}`);
}
return out;
"""

LABELS_JS = """
// Visible text that is not from the translation table: a key, an unfilled {name}, a raw snake_case value.
const keys = new Set(Object.keys(I18N.en));
const out = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode, parent = node.parentElement, text = node.textContent.trim();
  if (!text || !parent || parent.closest('.mono, script, style, option') || !parent.getClientRects().length) continue;
  if (keys.has(text) || /\\{[a-z]+\\}|\\b[a-z]+(?:_[a-z]+)+\\b|\\b(?:undefined|NaN|null)\\b/.test(text)) out.push(text);
}
return out;
"""

DRIFT = DriftEvidence(
    detector="page_hinkley", signal="inpatient_days", window_start=dt.date(2025, 3, 3),
    window_end=dt.date(2025, 3, 30), baseline_ratio=0.96, current_ratio=1.9,
    current_interval=Interval(low=1.3, high=2.6),
    observed=36, expected=18.9, unit_rate=12502.4, peer_rate=6580.2,
    rate_unit="unplanned inpatient days per 1,000 persons in care and year", headcount=40, statistic=7.1,
    threshold=5.0, weeks=[WeekFigure(week_start=dt.date(2025, 3, d), observed=9, expected=4.7, ratio=1.9)
                          for d in (3, 17, 24)])


def day_of(n: int) -> str:
    return str(DAY0 + dt.timedelta(days=n))


def test_a_coordinator_finds_a_flag_by_unit_and_days_reads_when_its_events_were_and_acts(
        stack: Stack, driver: Chrome) -> None:
    d = driver
    sign_in(d, stack.worker, "cecilia.care")
    Select(by_id(d, "f-unit")).select_by_value("unit-care-b")
    by_id(d, "f-from").send_keys("07/01/2025")  # not as Swedes write a day: said, nothing sent
    by_id(d, "f-apply").click()
    until(d, lambda d: "yyyy-mm-dd" in text_of(d, "error-msg"), "the malformed day said")
    assert d.switch_to.active_element.get_attribute("id") == "f-from"
    by_id(d, "f-from").clear()
    by_id(d, "f-from").send_keys("2025-07-01")
    by_id(d, "f-to").send_keys("2025-07-31")
    by_id(d, "f-apply").click()
    until(d, lambda d: set(rows(d)) == {stack.elsewhere}, "the one flag of unit-care-b raised in July")
    # the view is in the URL: opened again, it shows the same (a link that can be shared)
    view = d.current_url
    assert "unit=unit-care-b" in view and "raised_from=2025-07-01" in view and "raised_to=2025-07-31" in view
    open_flag(d, stack.elsewhere)
    assert f"flag={stack.elsewhere}" in d.current_url
    d.get(d.current_url)
    until(d, lambda d: set(rows(d)) == {stack.elsewhere} and shown(d, "detail"), "the shared view with its flag")
    assert Select(by_id(d, "f-unit")).first_selected_option.get_attribute("value") == "unit-care-b"

    # when its events were: every event's day and id, in the list and as ticks on the window's bar
    evidence = by_id(d, "evidence")
    days = [e.text for e in evidence.find_elements(By.CSS_SELECTOR, "[data-testid=event-day]")]
    assert days == [day_of(n) for n in (100, 130, 160, 190)]
    assert [e.text for e in evidence.find_elements(By.CSS_SELECTOR, "[data-testid=event-id]")] == stack.elsewhere_events
    ticks = [t.get_attribute("data-day")
             for t in evidence.find_elements(By.CSS_SELECTOR, "[data-testid=event-tick]")]
    assert ticks == days
    bar = evidence.find_element(By.CSS_SELECTOR, "[data-testid=timeline]")
    assert day_of(100) in str(bar.get_attribute("aria-label"))

    # acts on it: acknowledged, it leaves the open list; snoozing takes a day written yyyy-mm-dd only
    by_id(d, "until").send_keys("12/31/2099")
    by_id(d, "do-snooze").click()
    until(d, lambda d: "yyyy-mm-dd" in text_of(d, "error-msg"), "the malformed snooze day said")
    by_id(d, "until").clear()
    by_id(d, "do-acknowledge").click()
    until(d, lambda d: stack.elsewhere not in rows(d) and "Acknowledged" in text_of(d, "detail-facts"),
          "the flag acknowledged and gone from the open list")
    assert text_of(d, "status-msg") == "The flag is acknowledged."
    assert console_errors(d) == []


def test_the_list_keeps_its_columns_whole_in_both_languages_at_1280_and_800_px_and_shows_no_raw_label(
        stack: Stack, driver: Chrome, shots: Path) -> None:
    d = driver
    sign_in(d, stack.worker, "ada.admin")
    drift = json.dumps(DRIFT.model_dump(mode="json"))
    for lang in ("sv", "en"):
        d.execute_script("setLanguage(arguments[0])", lang)
        for width in (1280, 800):
            d.set_window_size(width, 1000)
            Select(by_id(d, "f-status")).select_by_value("")
            by_id(d, "f-apply").click()
            until(d, lambda d: len(rows(d)) == 4, "every flag")
            open_flag(d, stack.stays_open)
            # the longest rule name of the language in the list too (a unit flag's: none live here)
            d.execute_script("""const names = Object.keys(I18N[S.lang]).filter((k) => k.startsWith('rule.'));
                names.sort((a, b) => t(b).length - t(a).length);
                S.flags = [...S.flags, {...S.flags[0], flag_id: 'f_longest', rule: names[0].slice(5)}];
                renderList();""")
            assert d.execute_script(LAYOUT_JS) == [], (lang, width)
            assert d.execute_script(LABELS_JS) == [], (lang, width)
            screenshot(d, shots / f"inbox-{lang}-{width}.png")
            # a unit flag, as hard to read as it came: its labels on the scale never overlap
            d.execute_script("""
                const [evidence, rule] = [JSON.parse(arguments[0]), 'unit_inpatient_days_drift'];
                S.detail = {...S.detail, rule, subject_kind: 'unit', subject_id: 'unit-care',
                            flag: {...S.detail.flag, rule, subject_kind: 'unit', evidence}};
                renderDetail();""", drift)
            tags = d.execute_script("""return [...document.querySelectorAll('.scale .tag')].map((t) => {
                const r = t.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; })""")
            overlaps = [(a, b) for i, a in enumerate(tags) for b in tags[i + 1:]
                        if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]]
            assert len(tags) == 3 and overlaps == [], (lang, width, tags)
            assert d.execute_script(LABELS_JS) == [], (lang, width)
            text = by_id(d, "evidence").text
            assert len(d.find_elements(By.CSS_SELECTOR, "[data-testid=week-row]")) == 4  # the missing week too
            if lang == "en":
                assert "The unit is at 1.9 × its peers' rate: 104.2 against 54.8 unplanned inpatient days per 100 " \
                       "persons in care and month." in text
                assert "not tested" in text and "Observed 36 unplanned inpatient days" in text
            screenshot(d, shots / f"inbox-unit-flag-{lang}-{width}.png")
    assert console_errors(d) == []
