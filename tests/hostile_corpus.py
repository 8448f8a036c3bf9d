"""Hostile and careless lines, each with the reason it must be rejected for (issue 12).

`corpus(base)` builds them around a clean stream `base` (JSON lines): ids, units and times are taken
from it so that each line is wrong in exactly one way. Every personnummer in here is one of `PNRS`, so a
test can look for all of them in everything the monitor writes.
"""

from __future__ import annotations

import json

#: Valid numbers in every written form (Skatteverket's test number 19811218-9876, a samordningsnummer).
PNRS = ["19811218-9876", "811218-9876", "8112189876", "198112189876", "811218+9876", "811278-9873",
        "811218 9876", "19811218 9876"]
STRAY_DATE = "2026-11-29T09:00:00+01:00"  # "today" typed into a history of 2024-2025


def corpus(base: list[str]) -> list[tuple[str, str]]:
    person = next(json.loads(b) for b in base if '"emergency_visit"' in b)
    unit, when = person["unit_id"], person["occurred_at"]

    def ev(event_type: str = "emergency_visit", **fields: object) -> str:
        doc: dict[str, object] = {"event_id": f"hostile-{len(out)}", "event_type": event_type,
                                  "occurred_at": when, "unit_id": unit, "person_id": "hostile-person"}
        doc.update(fields)
        return json.dumps({k: v for k, v in doc.items() if v is not None}, ensure_ascii=False)

    out: list[tuple[str, str]] = []
    for pnr in PNRS:
        out.append((ev(person_id=pnr), "raw_personal_identity_number"))
    out += [
        (ev(event_id=f"evt-{PNRS[0]}"), "raw_personal_identity_number"),
        (ev(unit_id=PNRS[1]), "raw_personal_identity_number"),
        (ev("admission", stay_id=f"stay/{PNRS[2]}"), "raw_personal_identity_number"),
        (ev(source=f"journal {PNRS[3]}"), "raw_personal_identity_number"),
        (ev("enrollment", program=PNRS[4]), "raw_personal_identity_number"),
        (ev(organisation=PNRS[2]), "raw_personal_identity_number"),  # a sole trader's organisation number
        (ev(organisation=PNRS[1]), "raw_personal_identity_number"),
        (ev("survey_response", instrument="i", question="q", scale="s", answer=f"x {PNRS[3]}"),
         "raw_personal_identity_number"),
        (ev(organisation="212000-0143"), "invalid_field"),  # a wrong check digit
        (ev("enrollment", program="team", reason="died"), "invalid_field"),  # a reason without leaving
        (ev("survey_response", instrument="i", question="q", scale="stars", answer="5"), "unknown_scale_level"),
        (ev(ssn=PNRS[0]), "unknown_field"),
        (ev(event_type=PNRS[5]), "unknown_event_type"),
        (f"patient {PNRS[0]} fell at home", "not_json"),
        (ev("home_care_contact", minutes=int(PNRS[2]), planned=False), "invalid_field"),
        (ev(occurred_at="0001-01-01T00:30:00+01:00"), "invalid_timestamp"),
        (ev(occurred_at="9999-12-31T23:59:59+01:00"), "in_the_future"),
        (ev(occurred_at="2025-02-30T10:00:00+01:00"), "invalid_timestamp"),
        (ev(occurred_at=when.replace("+01:00", "").replace("+02:00", "")), "invalid_timestamp"),
        (ev(occurred_at=STRAY_DATE), "ahead_of_stream"),
        (ev(event_id="line\u2028break"), "invalid_field"),
        (ev(unit_id="unit\u202eevil"), "invalid_field"),
        (ev(person_id="p\u0085"), "invalid_field"),
        ("\ufeff" + ev(), "not_json"),
        (ev(program="x" * 70_000), "too_large"),
        ("[" * 5000 + "]" * 5000, "not_json"),
        ('{"event_id": "nan", "event_type": "staffing", "unit_id": "u", "headcount": NaN, '
         f'"occurred_at": "{when}"}}', "invalid_field"),  # JSON NaN is read, and is no headcount
        (ev("staffing", person_id=None, headcount=-1), "invalid_field"),
        (ev(extent=0.3, event_type="sick_leave"), "invalid_field"),
        ("[]", "not_an_object"),
        ("null", "not_an_object"),
        ('"just a string"', "not_an_object"),
    ]
    return out


def with_corpus(base: list[str], hostile: list[tuple[str, str]]) -> list[str]:
    """The clean stream with the hostile lines spread through it (none in the first 2,000)."""
    lines = list(base)
    step = max(1, (len(lines) - 2000) // (len(hostile) + 1))
    for i, (line, _) in enumerate(reversed(hostile)):
        lines.insert(2000 + step * (len(hostile) - i), line)
    return lines
