"""Flag handling as recipients meet it, on a real worker and a real broker: who sees what (role, unit
scope, consent), every status code of the API, the lifecycle, the reveal and the audit of it all, the
state rebuilt from Kafka after a SIGKILL, and two workers answering alike."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streams.core.pseudonym import Pseudonymiser
from tests.helpers import event
from tests.integration.inbox import (
    Api,
    ed_visits,
    enrolment,
    inbox_env,
    ns_inbox_topics,
    serving_worker,
    sick_spells,
    token,
    write_events,
)
from tests.integration.live import PSEUDONYM_KEY, Namespace, Worker, final_flags, publish_file, read_topic

pytestmark = pytest.mark.integration

PSEUDONYM = Pseudonymiser(PSEUDONYM_KEY.encode())


@dataclass
class Stack:
    ns: Namespace
    workdir: Path
    worker: Worker
    api: Api

    def publish(self, name: str, lines: list[str]) -> None:
        publish_file(self.ns, write_events(self.workdir / name, lines))


def by_subject(flags: list[dict[str, Any]], person: str) -> list[dict[str, Any]]:
    return [f for f in flags if f["subject_id"] == PSEUDONYM(person)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("inbox")
    with serving_worker(workdir) as (ns, worker, api):
        s = Stack(ns, workdir, worker, api)
        # emp-consenting joined the health-support programme; emp-private did not; pat-1 is in care
        s.publish("first.jsonl", [enrolment("emp-consenting", "unit-hr", 1)]
                  + sick_spells("emp-consenting", "unit-hr", 10) + sick_spells("emp-private", "unit-hr", 11)
                  + ed_visits("pat-1", "unit-care", 12))
        # consent holds for everyone, admins too: emp-private's flag counts in unit figures only
        api.wait_flags("ada.admin", lambda fl: len(fl) == 2)
        assert len(final_flags(ns)) == 3
        yield s


def test_no_token_or_an_unknown_token_is_401(stack: Stack) -> None:
    assert stack.api.get("/api/flags").status == 401
    assert stack.api.get("/api/flags", raw_token="not-a-token").status == 401
    assert stack.api.post("/api/flags/f_x/actions", None, {"action": "acknowledge"}).status == 401


def test_each_recipient_sees_only_their_role_scope_and_consented_people(stack: Stack) -> None:
    api = stack.api
    hr = api.flags("hanna.hr")
    assert [f["rule"] for f in hr] == ["repeated_sick_leave"]
    assert by_subject(hr, "emp-consenting") == hr  # emp-private gave no consent: counted in units only
    assert api.flags("olle.hr") == []  # another unit
    care = api.flags("cecilia.care")
    assert [f["rule"] for f in care] == ["frequent_emergency_visits"]
    # outside the scope, or without consent: 404, exactly like a flag that does not exist
    [private] = [k for k, f in final_flags(stack.ns).items() if f["subject_id"] == PSEUDONYM("emp-private")]
    assert api.get(f"/api/flags/{hr[0]['flag_id']}", "olle.hr").status == 404
    assert api.get(f"/api/flags/{hr[0]['flag_id']}", "cecilia.care").status == 404
    assert api.get(f"/api/flags/{private}", "hanna.hr").status == 404
    assert api.get("/api/flags/f_does_not_exist", "hanna.hr").status == 404
    assert api.get("/api/flags/f_does_not_exist", "hanna.hr").body == api.get(f"/api/flags/{private}", "hanna.hr").body
    text = json.dumps([hr, care])
    assert "emp-" not in text and "pat-" not in text  # pseudonyms only


def test_the_lifecycle_and_its_status_codes(stack: Stack) -> None:
    api = stack.api
    [flag] = api.flags("hanna.hr")
    path = f"/api/flags/{flag['flag_id']}/actions"
    assert api.post(path, "hanna.hr", b"{not json").status == 400
    bad = api.post(path, "hanna.hr", {"action": "explode"})
    assert bad.status == 400 and "action" in bad.body["error"]
    assert api.post(path, "hanna.hr", {"action": "resolve"}).status == 400  # no resolution
    # a snooze day that is not after today is a bad body, not a transition the state refuses
    for day in ("2020-01-01", dt.datetime.now(dt.UTC).date().isoformat()):
        past = api.post(path, "hanna.hr", {"action": "snooze", "until": day})
        assert past.status == 400 and "snooze needs a day after today" in past.body["error"], past
    assert api.post(path, "olle.hr", {"action": "acknowledge"}).status == 404
    acked = api.post(path, "hanna.hr", {"action": "acknowledge", "note": "Ringt, samtal bokat."})
    assert acked.status == 200 and acked.body["handling"]["status"] == "acknowledged"
    assert api.post(path, "hanna.hr", {"action": "acknowledge"}).status == 409
    done = api.post(path, "hanna.hr", {"action": "resolve", "resolution": "false_alarm", "note": "Planerad op."})
    assert done.status == 200 and done.body["handling"]["resolution"] == "false_alarm"
    again = api.post(path, "hanna.hr", {"action": "snooze", "until": "2099-01-01"})
    assert again.status == 409 and "resolved" in again.body["error"]
    assert api.flags("hanna.hr", "?status=open") == []
    assert [f["status"] for f in api.flags("hanna.hr", "?status=resolved")] == ["resolved"]
    history = api.get(f"/api/flags/{flag['flag_id']}", "hanna.hr").body["handling"]["history"]
    assert [(h["action"], h["by"]) for h in history] == [("acknowledge", "hanna.hr"), ("resolve", "hanna.hr")]
    # every action is a record on the flag-actions topic, keyed by the flag
    actions = [(k, json.loads(v)) for k, v in read_topic(ns_inbox_topics(stack.ns)["flag-actions"])]
    mine = [a for k, a in actions if k == flag["flag_id"].encode()]
    assert [(a["action"], a["by"], a.get("resolution")) for a in mine] == [
        ("acknowledge", "hanna.hr", None), ("resolve", "hanna.hr", "false_alarm")]


def test_a_user_who_may_not_see_a_flag_gets_the_same_404_whatever_the_body(stack: Stack) -> None:
    api = stack.api
    [hr] = api.flags("hanna.hr")
    [care] = api.flags("cecilia.care")
    bodies: list[object | bytes] = [b"{not json", {"action": "explode"}, {"action": "resolve"},
                                    {"action": "snooze", "until": "2020-01-01"}, {"reason": "test"}, {"reason": ""},
                                    {"reason": "Vårdplanering med hemtjänsten"}]
    none = api.post("/api/flags/f_does_not_exist/actions", "olle.hr", {"action": "acknowledge"}).body
    for user, flag_id in (("olle.hr", hr["flag_id"]), ("hanna.hr", care["flag_id"]),
                          ("hanna.hr", "f_does_not_exist")):
        for what in ("actions", "reveal"):
            for body in bodies:
                answer = api.post(f"/api/flags/{flag_id}/{what}", user, body)
                assert (answer.status, answer.body) == (404, none), (user, flag_id, what, body, answer)
    # one who sees the flag but may not reveal is told so before the reason is weighed
    assert api.post(f"/api/flags/{hr['flag_id']}/reveal", "hanna.hr", {"reason": "test"}).status == 403


def test_a_reveal_needs_the_right_a_reason_and_is_audited(stack: Stack) -> None:
    api = stack.api
    [care] = api.flags("cecilia.care")
    path = f"/api/flags/{care['flag_id']}/reveal"
    assert api.post(path, "cecilia.care", {"reason": ""}).status == 400
    assert api.post(path, "hanna.hr", {"reason": "vill veta"}).status == 404  # not her flag at all
    shown = api.post(path, "cecilia.care", {"reason": "Vårdplanering med hemtjänsten"})
    assert shown.status == 200 and shown.body["source_person_id"] == "pat-1"
    audit = api.get(f"/api/audit?flag_id={care['flag_id']}", "ada.admin")
    assert audit.status == 200
    reveals = [e for e in audit.body["entries"] if e["kind"] == "reveal"]
    assert [(e["user"], e["reason"]) for e in reveals] == [("cecilia.care", "Vårdplanering med hemtjänsten")]
    assert api.get("/api/audit", "cecilia.care").status == 403
    # the identities topic holds sealed keys only
    sealed = read_topic(ns_inbox_topics(stack.ns)["identities"])
    assert sealed and not any(b"pat-1" in v or b"emp-" in v for _, v in sealed)


def test_a_note_or_a_reveal_reason_with_a_personnummer_is_refused_before_anything_is_written(stack: Stack) -> None:
    api = stack.api
    [care] = api.flags("cecilia.care")
    topics = ns_inbox_topics(stack.ns)
    before = {name: len(read_topic(topics[name])) for name in ("flag-actions", "audit")}
    for what, body in (("actions", {"action": "acknowledge", "note": "ringde 19811218-9876"}),
                       ("actions", {"action": "acknowledge", "note": "pnr:811218 9876, anhörig"}),
                       ("reveal", {"reason": "gäller 8112189876, vårdplanering"})):
        answer = api.post(f"/api/flags/{care['flag_id']}/{what}", "cecilia.care", body)
        assert answer.status == 400, (what, body, answer)
        field = "note" if what == "actions" else "reason"
        assert answer.body["error"].startswith(f"{field} holds a personnummer or samordningsnummer")
        assert "9876" not in answer.body["error"]
    assert {name: len(read_topic(topics[name])) for name in ("flag-actions", "audit")} == before
    assert api.get(f"/api/flags/{care['flag_id']}", "cecilia.care").body["handling"]["history"] == []


def test_reads_of_person_flags_are_audited(stack: Stack) -> None:
    api = stack.api
    [flag] = api.flags("cecilia.care")
    assert api.get(f"/api/flags/{flag['flag_id']}", "cecilia.care").status == 200
    entries = api.get("/api/audit?user=cecilia.care", "ada.admin").body["entries"]
    assert any(e["kind"] == "read" and e["flag_ids"] == [flag["flag_id"]] for e in entries)
    assert any(e["kind"] == "list" and flag["flag_id"] in e["flag_ids"] for e in entries)


def test_consent_given_later_or_withdrawn_is_respected(stack: Stack) -> None:
    api = stack.api
    stack.publish("consent.jsonl", [enrolment("emp-private", "unit-hr", 120),
                                    enrolment("emp-consenting", "unit-hr", 121, status="left")])
    seen = api.wait_flags("hanna.hr", lambda fl: len(by_subject(fl, "emp-private")) == 1
                          and not by_subject(fl, "emp-consenting"))
    assert len(seen) == 1


def test_state_is_rebuilt_from_kafka_after_a_sigkill_and_two_workers_answer_alike(stack: Stack) -> None:
    api = stack.api
    before = {f["flag_id"]: (f["status"], f["version"]) for f in api.flags("ada.admin")}
    [care] = api.flags("cecilia.care")
    acked = api.post(f"/api/flags/{care['flag_id']}/actions", "cecilia.care", {"action": "acknowledge"})
    assert acked.status == 200
    before[care["flag_id"]] = ("acknowledged", before[care["flag_id"]][1])
    stack.worker.kill()
    stack.worker.start()
    stack.worker.wait_ready(180)
    api.wait_serving()
    assert {f["flag_id"]: (f["status"], f["version"]) for f in api.flags("ada.admin")} == before
    second = Worker(stack.ns, stack.workdir, "w2", **inbox_env(stack.workdir)).start()
    try:
        second.wait_ready(180)
        other = Api(second)
        other.wait_serving()
        assert {f["flag_id"]: f["status"] for f in other.flags("ada.admin")} == {k: v[0] for k, v in before.items()}
        # an action through one worker is what the other shows next
        done = other.post(f"/api/flags/{care['flag_id']}/actions", "cecilia.care",
                          {"action": "resolve", "resolution": "action_taken", "note": "Vårdplan ändrad"})
        assert done.status == 200
        api.wait_flags("cecilia.care", lambda fl: [f["status"] for f in fl] == ["resolved"])
        assert api.post(f"/api/flags/{care['flag_id']}/actions", "cecilia.care",
                        {"action": "acknowledge"}).status == 409
    finally:
        second.stop()
    assert token("ada.admin") not in stack.worker.tail(400)


def test_a_late_event_that_revises_an_episode_keeps_the_flag_id_and_its_acknowledgement(stack: Stack) -> None:
    api = stack.api
    spells = [event("sick_leave", 200 + 14 * k, person_id="emp-late", unit_id="unit-hr") for k in range(6)]
    stack.publish("late-1.jsonl", [enrolment("emp-late", "unit-hr", 190)] + spells)  # 6th occasion: day 270
    [flag] = by_subject(api.wait_flags("hanna.hr", lambda fl: len(by_subject(fl, "emp-late")) == 1), "emp-late")
    acked = api.post(f"/api/flags/{flag['flag_id']}/actions", "hanna.hr", {"action": "acknowledge", "note": "Ringt"})
    assert acked.status == 200
    # an occasion on day 265 arrives late (within the allowed lateness): it, not day 270's, is now the 6th
    stack.publish("late-2.jsonl", [event("sick_leave", 265, person_id="emp-late", unit_id="unit-hr")])
    [revised] = by_subject(api.wait_flags("hanna.hr", lambda fl: any(
        f["version"] == 2 for f in by_subject(fl, "emp-late"))), "emp-late")
    assert revised["flag_id"] == flag["flag_id"]
    assert revised["status"] == "acknowledged"
    assert revised["revised_because"] == "late_data"
    assert revised["raised_at"] < flag["raised_at"]
    versions = api.get(f"/api/flags/{flag['flag_id']}", "hanna.hr").body["versions"]
    assert [v["version"] for v in versions] == [1, 2] and "raised_at" in versions[1]["changed"]


def test_no_person_id_source_key_or_token_in_the_workers_log(stack: Stack) -> None:
    log = stack.worker.log_path.read_text(errors="replace")
    assert "inbox: cecilia.care revealed" in log  # the reveal itself is logged, by flag id
    for secret in ("pat-1", "emp-consenting", "emp-private", "emp-late", token("cecilia.care")):
        assert secret not in log
