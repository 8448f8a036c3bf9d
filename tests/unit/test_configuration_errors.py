"""A mistake in the configuration is one line per mistake, naming the key and what is allowed, never a
traceback, whatever the configuration holds; the programme fields in docs/programmes.md are the model's."""

from __future__ import annotations

import contextlib
import io
import json
import os
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.cli import main
from streams.config_help import DOC, document
from streams.core.config import MonitorConfig
from streams.core.programme_config import ProgrammeConfig


def _run(monitor_env: str) -> tuple[int, str]:
    err = io.StringIO()
    with mock.patch.dict(os.environ, {"OUTCOME_MONITOR_MONITOR": monitor_env}), contextlib.redirect_stderr(err):
        rc = main(["replay", "/nonexistent/events.jsonl", "--quiet"])
    return rc, err.getvalue()


@pytest.mark.parametrize(("programme", "says"), [
    ({"name": "hälsa/stöd", "kind": "hr"},
     "configuration: OUTCOME_MONITOR_MONITOR: programmes[0].name: 'hälsa/stöd' is not allowed: 1-64 letters "
     "(å, ä, ö too), digits, spaces, '.', '_' and '-', beginning with a letter or a digit"),
    ({"name": "team", "kind": "care", "windw_months": 3},
     "configuration: OUTCOME_MONITOR_MONITOR: programmes[0].windw_months: not a key here (did you mean "
     "'window_months'?); the keys: name, kind, window_months, "),
    ({"name": "team", "kind": "HR"},
     "configuration: OUTCOME_MONITOR_MONITOR: programmes[0].kind: Input should be 'care' or 'hr' (given 'HR')"),
    ({"name": "team", "kind": "care", "eligible_if": [{"measure": "admission", "at_least": 2, "days": 60}]},
     "programmes[0].eligible_if[0].measure: Input should be 'admissions', "),
    ({"name": "team", "kind": "care", "cost": {"fixed_per_month": 1}},
     "programmes[0].cost.fixed_per_month: not a key here (did you mean 'fixed_per_month_sek'?)"),
    ({"name": "team"}, "configuration: OUTCOME_MONITOR_MONITOR: programmes[0].kind: required, and missing"),
])
def test_a_mistake_is_one_line_naming_the_key_and_what_is_allowed(programme: dict[str, object], says: str) -> None:
    rc, err = _run(json.dumps({"programmes": [programme]}))
    assert rc == 2 and err.startswith("configuration: OUTCOME_MONITOR_MONITOR: ") and says in err, err
    assert err.count("\n") == 1, err


def test_not_json_is_one_line_too() -> None:
    rc, err = _run('{"programmes": [')
    assert rc == 2 and err.startswith("configuration: OUTCOME_MONITOR_MONITOR is not JSON: ") and err.count("\n") == 1


def test_swedish_letters_are_a_name() -> None:
    """Enrolment events may name a programme "hälsostöd": the configuration must be able to follow it."""
    assert ProgrammeConfig(name="Hälsostöd Östra", kind="hr").name == "Hälsostöd Östra"  # type: ignore[arg-type]


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3), max_leaves=8)
_keys = st.sampled_from([*ProgrammeConfig.model_fields, "windw_months", "namn", "gives_consent"])
_programme = st.dictionaries(_keys, _json | st.sampled_from(["care", "hr", "ä", "health-support", True]), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.builds(lambda ps: {"programmes": ps}, st.lists(_programme, max_size=3)),
                 st.dictionaries(st.text(max_size=10), _json, max_size=3), _json))
def test_whatever_the_configuration_holds_the_answer_is_lines_never_a_traceback(config: object) -> None:
    rc, err = _run(json.dumps(config))
    assert "Traceback" not in err
    if rc == 2 and err.startswith("configuration: "):
        assert all(line.startswith("configuration: OUTCOME_MONITOR_MONITOR") for line in err.splitlines())
    else:  # a valid configuration (or `null`: the defaults): the command itself ran, and found no file
        assert err == "replay: no such file: /nonexistent/events.jsonl\n", err
        if config is not None:
            MonitorConfig.model_validate(config)


def test_the_documented_programme_fields_are_the_model_s() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == document(text), "docs/programmes.md is stale: run `python -m streams.config_help`"
    for name in ProgrammeConfig.model_fields:
        assert f"| `{name}` |" in text
