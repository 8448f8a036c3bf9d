"""`report` from figures already computed (`replay --programmes-out`, the worker's topic): what the file
holds is what the page shows, nothing is replayed, and a wrong request is one line before any work."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from streams.cli import main
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser
from streams.files.replay import run
from streams.progress import working
from streams.report.charts import figures, forest_rows
from streams.report.quarterly import _num, render
from streams.report.stored import results_of
from streams.simulators.programme_scenarios import SCENARIOS, write
from streams.simulators.programme_scenarios import run as simulate

PROGRAMME = "health-support"
CONFIG = {"programmes": [{"name": PROGRAMME, "kind": "hr"}]}


def _figures_in(html: str) -> dict[str, object]:
    block = re.search(r'<script type="application/json" id="figures">(.*?)</script>', html, re.S)
    assert block is not None
    return json.loads(block.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """The HR scenario's events, and the figures `replay --programmes-out` wrote of them, with its output."""
    tmp = tmp_path_factory.mktemp("hr")
    events, figures = tmp / "hr.jsonl", tmp / "figures.json"
    write(simulate(SCENARIOS["hr"]), str(events))
    monitor = Monitor(MonitorConfig.model_validate(CONFIG), Pseudonymiser(b"a test key, not the demo key, 32+ b"))
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert run(monitor, events, None, None, None, programmes_out=figures) == 0
    return events, figures, out.getvalue(), err.getvalue()


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCOME_MONITOR_MONITOR", json.dumps(CONFIG))


def test_replay_says_while_it_computes_programme_figures_and_counts_their_time(
        replayed: tuple[Path, Path, str, str]) -> None:
    _, _, summary, progress = replayed
    assert f"programme figures 1/1 ({PROGRAMME}, 2025Q3) ..." in progress
    assert re.search(r"programme figures 1/1 .*: done in \d+\.\d s", progress)
    elapsed = float(re.search(r"elapsed\s+([\d.]+) s", summary).group(1))  # type: ignore[union-attr]
    figures_s = float(re.search(r"of which programme figures\s+([\d.]+) s", summary).group(1))  # type: ignore[union-attr]
    read = int(re.search(r"events read\s+(\d+)", summary).group(1))  # type: ignore[union-attr]
    rate = int(re.search(r"\(([\d,]+) events/s\)", summary).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert 0 < figures_s < elapsed
    # the rate is over the whole run (elapsed is printed to 0.01 s), clearly below the rate without the figures
    assert rate == pytest.approx(read / elapsed, rel=0.01) and read / (elapsed - figures_s) > 1.02 * rate


def test_the_report_renders_the_stored_figures_as_they_are_without_replaying(
        replayed: tuple[Path, Path, str, str], configured: None, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, figures, _, _ = replayed
    out = tmp_path / "r.html"
    assert main(["report", "--figures", str(figures), "--programme", PROGRAMME, "--quarter", "2025q3",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "replaying" not in err and "wrote" in err
    html = out.read_text(encoding="utf-8")
    stored = json.loads(figures.read_text())[f"{PROGRAMME}/2025Q3"]
    assert _figures_in(html) == {**stored, "paired": {}}
    assert "published figures never carry one person's levels" in html  # why there are no dots
    assert html.count("data:image/png;base64,") >= 2


@pytest.mark.parametrize(("argv", "says"), [
    (["--programme", "hälsostöd", "--quarter", "2025Q3"],
     f"report: no programme 'hälsostöd' is configured; the configured ones: {PROGRAMME}"),
    (["--programme", PROGRAMME, "--quarter", "2025-07"], "report: not a quarter like 2025Q3: '2025-07'"),
    (["--programme", PROGRAMME, "--quarter", "2025Q2"], "holds 'health-support' for 2025Q3, not for 2025Q2"),
    (["--programme", PROGRAMME, "--quarter", "2025Q3", "--window-months", "3"],
     "report: --window-months change what is computed: give --events"),
])
def test_a_wrong_request_is_one_line_and_writes_nothing(
        replayed: tuple[Path, Path, str, str], configured: None, tmp_path: Path, argv: list[str], says: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, figures, _, _ = replayed
    out = tmp_path / "r.html"
    assert main(["report", "--figures", str(figures), "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_a_programme_with_no_enrolment_in_the_events_is_an_error_not_an_empty_report(
        replayed: tuple[Path, Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events, _, _, _ = replayed
    out = tmp_path / "r.html"
    assert main(["report", "--events", str(events), "--programme", "health-suport", "--quarter", "2025Q3",
                 "--out", str(out), "--demo-key"]) == 2
    err = capsys.readouterr().err
    assert "no enrolment of 'health-suport'" in err and err.rstrip().endswith("enrolled in there: health-support")
    assert not out.exists()


def test_a_long_step_says_it_is_still_working() -> None:
    out = io.StringIO()
    with working("figures", out, every_s=0.001):
        while out.getvalue().count("\n") < 3:  # the start line and two beats, however long that takes
            pass
    lines = out.getvalue().splitlines()
    assert lines[0] == "figures ..." and re.fullmatch(r"figures: \d+ s", lines[1])
    assert re.fullmatch(r"figures: done in \d+\.\d s", lines[-1])


# -- what the page shows -----------------------------------------------------------------------------------

def _stored(replayed: tuple[Path, Path, str, str]) -> dict[str, Any]:
    return copy.deepcopy(json.loads(replayed[1].read_text())[f"{PROGRAMME}/2025Q3"])


def test_numbers_never_break_at_the_thousands_separator_and_a_share_has_no_sign() -> None:
    assert _num(1234567.0) == "1\u00a0234\u00a0567" and _num(-1234.5, 1) == "−1\u00a0234.5"
    assert _num(-0.1234, 0, True) == "−12\u00a0%" and _num(0.72, 0, True, signed=False) == "72\u00a0%"
    assert _num(-0.0001, 0, True) == "+0\u00a0%"  # no "-0"


def test_chart_labels_are_in_swedish_and_english(replayed: tuple[Path, Path, str, str]) -> None:
    r = results_of(_stored(replayed))
    drawn = figures(r)
    assert {"effects", "money"} <= set(drawn)
    for fig in drawn.values():
        for ax in fig.axes:
            for label in [ax.get_xlabel(), ax.get_ylabel(), *(t.get_text() for t in ax.get_yticklabels())]:
                if label and not re.fullmatch(r"[−+\-\d.,\s%]+", label):  # not a tick's number
                    assert " / " in label, label
    [effects] = drawn["effects"].axes
    assert "sjukdagar / sick-leave days" in [t.get_text() for t in effects.get_yticklabels()]


def test_a_measure_without_any_event_is_no_data_not_a_measured_zero(replayed: tuple[Path, Path, str, str]) -> None:
    doc = _stored(replayed)
    zero = {"value": 0.0, "low": 0.0, "high": 0.0}
    doc["effects"]["long_days"]["all"].update(before=0.0, after=0.0, reference_before=0.0, counterfactual=zero,
                                              effect=zero, relative=zero, total=zero, naive=zero)
    r = results_of(doc)
    html = render(r)
    assert "no data: no event of this kind among the members or their references" in html
    labels = [t.get_text() for t in figures(r)["effects"].axes[0].get_yticklabels()]
    assert not any("long-term" in label for label in labels) and len(labels) == 3  # no dot at 0 for it


def test_one_very_uncertain_outcome_does_not_squash_the_forest_plot(replayed: tuple[Path, Path, str, str]) -> None:
    doc = _stored(replayed)
    doc["effects"]["long_days"]["all"]["relative"] = {"value": 0.5, "low": -0.6, "high": 9.0}
    [ax] = figures(results_of(doc))["effects"].axes
    left, right = ax.get_xlim()
    assert right < 300 and left >= -110  # the others' intervals keep their width
    assert any(t.get_text() == "+900 %" for t in ax.texts)  # the cut end is written beside its arrow
    rows, (lo, hi) = forest_rows([(-20.0, -40.0, -5.0), (10.0, -60.0, 900.0), (0.0, -10.0, 12.0)])
    assert rows[1].cut_high and not rows[1].cut_low and rows[1].high == hi < 100
    assert not any(r.cut_low or r.cut_high for r in (rows[0], rows[2])) and lo < -40
    [alone], _ = forest_rows([(10.0, -60.0, 900.0)])
    assert not alone.cut_high  # one outcome: its own axis


def test_not_shown_only_for_1_to_10_persons_and_0_for_none(replayed: tuple[Path, Path, str, str]) -> None:
    doc = _stored(replayed)
    for measure in doc["effects"]:
        doc["effects"][measure]["quarter"] = {"measure": measure, "group": "quarter", "suppressed": True}
    few = render(results_of({**doc, "inputs": {**doc["inputs"], "active_in_quarter": None}}))
    none = render(results_of({**doc, "inputs": {**doc["inputs"], "active_in_quarter": 0}}))
    quarter_rows = len(doc["effects"])
    assert few.count("≤ 10 persons: not shown") >= quarter_rows and "0 personer / persons" not in few
    assert none.count("0 personer / persons") >= quarter_rows and "≤ 10 persons: not shown" not in none


def test_the_cost_footnote_names_configuration_keys_not_source_files(replayed: tuple[Path, Path, str, str]) -> None:
    html = render(results_of(_stored(replayed)))
    note = re.search(r'<p class="note">(.*?)</p>', html, re.S)
    assert note is not None and "`cost_table`" in note.group(1) and ".py" not in note.group(1)


def test_several_programmes_are_rendered_in_one_run_into_a_directory(
        replayed: tuple[Path, Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events, figures_file, _, _ = replayed
    two = tmp_path / "two.json"
    stored = json.loads(figures_file.read_text())
    two.write_text(json.dumps({**stored, "Hälsostöd/2025Q3": {**stored[f"{PROGRAMME}/2025Q3"],
                                                               "programme": "Hälsostöd"}}))
    out = tmp_path / "reports"
    argv = ["report", "--figures", str(two), "--quarter", "2025Q3", "--programme", PROGRAMME,
            "--programme", "Hälsostöd"]
    assert main([*argv, "--out", str(out)]) == 0
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    assert set(pages) == {f"{PROGRAMME}-2025Q3.html", "Hälsostöd-2025Q3.html"}
    assert "<h1>Hälsostöd — 2025Q3</h1>" in pages["Hälsostöd-2025Q3.html"]
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "one.html")]) == 2
    assert "--out names their directory" in capsys.readouterr().err
    assert main(["report", "--events", str(events), "--quarter", "2025Q3", "--programme", PROGRAMME,
                 "--programme", "x", "--out", str(out), "--demo-key"]) == 2
    assert "one --programme with --events" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "says"), [
    ('{"answers": []}', "is not a survey file (KeyError: 'scale')"),
    ('{"scale": {"name": "s", "levels": ["no", "yes"]}, "answers": [{"instrument": "i", "question": "q", '
     '"level": "maybe", "period": "1"}]}', "answers not on the scale s: maybe; its levels: no, yes"),
    ("not json", "is not a survey file (JSONDecodeError"),
])
def test_a_wrong_survey_file_is_one_line(replayed: tuple[Path, Path, str, str], tmp_path: Path, content: str,
                                         says: str, capsys: pytest.CaptureFixture[str]) -> None:
    survey = tmp_path / "survey.json"
    survey.write_text(content)
    assert main(["report", "--figures", str(replayed[1]), "--programme", PROGRAMME, "--quarter", "2025Q3",
                 "--survey", str(survey), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and not (tmp_path / "r.html").exists()
