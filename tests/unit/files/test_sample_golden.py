"""`make sample` gives the same flags, rejections and indicators as the recorded run.

The digests in tests/golden/sample.sha256 were taken from `outcome-monitor replay` of the bundled
sample before the redesign of issue 11; a change of behaviour must change them deliberately (and say
why in the commit), never by accident of a refactoring. Changed since: flags.jsonl with issue 13 (a
flag's id is its episode, so the 17 flags that late data used to withdraw and raise again under a new
id are now revisions of one flag; what every flag says is unchanged); with issue 14 (the drift flag's
evidence gains its rates, its outcome and its weeks; every other flag unchanged; the drifting workplace,
hr-unit-03, is 1.9x its peers for a quarter, but its interval is not wholly above the level test's 1.5x);
rejects.jsonl with issue 15 (the two unknown_event_type messages list the contract's types, survey_response
now among them; every other rejection unchanged); and when dead letters came to name the event id of every
message that parsed as a JSON object with a string event_id (the same two now carry theirs, "x", not null;
every other rejection unchanged); flags.jsonl and indicators.json when the monitor came to know where its
history begins (the first, partial week, in which every absence going on is seen for the first time, is
no longer learned from: the workplaces' baselines move by up to 0.045, and hr-unit-03's one drift flag,
the same week, says 1.1175 for its baseline; every other flag unchanged); flags.jsonl when the warm-up's
dispersion came to be corrected for its fitted baseline (that flag's interval 1.42-3.02, was 1.44-2.98);
and when person flags' evidence came to carry the day of every event
behind them (`dated_events`) and a long sick leave every event id of its occasion, not its first and latest
only (with those two fields set as before, every flag unchanged); flags.jsonl when `--flags-out` came to
write the flag stream the worker
sends (every version, withdrawals included, in the order made: 231 records for the 210 flags, whose last
versions are the 210 flags written before, except that 3 now say `revised_because: late_data` with what
changed, as the worker's do: replay folds a late event in at once, as the worker does). The personnummer
recogniser's token rules rejected no line of the sample wrongly: rejects.jsonl is unchanged by them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from streams.cli import main

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "streams" / "sample" / "events.jsonl.gz"
GOLDEN = ROOT / "tests" / "golden" / "sample.sha256"


def test_sample_replay_matches_the_recorded_flags_rejections_and_indicators(tmp_path: Path) -> None:
    code = main(["replay", str(SAMPLE), "--demo-key", "--flags-out", str(tmp_path / "flags.jsonl"),
                 "--rejects-out", str(tmp_path / "rejects.jsonl"),
                 "--indicators-out", str(tmp_path / "indicators.json"), "--quiet"])
    assert code == 0
    expected = dict(reversed(line.split()) for line in GOLDEN.read_text().splitlines() if line.strip())
    actual = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in expected}
    assert actual == expected
