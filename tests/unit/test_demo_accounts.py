"""`make demo`'s inbox accounts: tokens written where the README and the banner say, and a unit scope to try."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.core.handling.access import Accounts, AccountsFile, Role
from streams.settings import Settings
from streams.simulators.simulation import Scenario
from streams.up import Stack


def test_the_demo_writes_a_token_per_account_two_of_them_scoped_to_one_unit_each_of_the_simulators(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTCOME_MONITOR_INBOX__ACCOUNTS_FILE", raising=False)
    env = Stack(Settings(), tmp_path).inbox_accounts()
    accounts = Accounts(AccountsFile.model_validate_json(Path(env["OUTCOME_MONITOR_INBOX__ACCOUNTS_FILE"]).read_text())
                        .accounts)
    lines = (tmp_path / "inbox-tokens.txt").read_text().splitlines()
    users = {name: accounts.user(tok) for name, tok in (line.split("\t") for line in lines)}
    assert all(users.values()) and (tmp_path / "inbox-tokens.txt").stat().st_mode & 0o077 == 0
    scoped = {(u.role, *u.units) for u in users.values() if u is not None and "*" not in u.units}
    simulated = set(Scenario().unit_ids()) | {f"care-unit-{i:02d}" for i in range(Scenario().care_units)}
    assert {role for role, _ in scoped} == {Role.HR, Role.CARE} and {unit for _, unit in scoped} <= simulated
