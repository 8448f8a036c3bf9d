"""Who may see which flag: a role (`hr` sees HR rules, `care` sees care rules, `admin` sees all) and a
unit scope; and for a person-level flag, the person's consent where the rule asks for it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from streams.models.flags import Flag
from streams.models.vocab import EMPLOYEE_RULES


class Role(StrEnum):
    HR = "hr"
    CARE = "care"
    ADMIN = "admin"


class Account(BaseModel):
    """One entry of the tokens file: the token's SHA-256 (hex) and who it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    user: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    units: list[str] = Field(min_length=1, description='Unit ids this user may see, or ["*"] for all.')
    may_reveal: bool = Field(default=False, description="May look up the source key of a flagged person.")


class AccountsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    accounts: list[Account]


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    units: frozenset[str]
    may_reveal: bool = False

    def in_scope(self, unit_id: str) -> bool:
        return "*" in self.units or unit_id in self.units

    def may_see_rule(self, flag: Flag) -> bool:
        if self.role is Role.ADMIN:
            return True
        hr = flag.rule in EMPLOYEE_RULES
        return hr if self.role is Role.HR else not hr


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Tokens to users. Tokens are long random strings; the file holds only their SHA-256."""

    def __init__(self, accounts: list[Account]) -> None:
        self._by_digest = {a.token_sha256: User(a.user, a.role, frozenset(a.units), a.may_reveal) for a in accounts}

    def user(self, token: str | None) -> User | None:
        if not token:
            return None
        return self._by_digest.get(token_digest(token))


@dataclass(frozen=True, slots=True)
class ConsentPolicy:
    """Programmes a person must have joined for their person-level flags to reach a recipient: for HR
    rules (e.g. the health-support programme) and for care rules (none: care flags need no enrolment)."""

    hr_programmes: frozenset[str]
    care_programmes: frozenset[str]

    def needed(self, flag: Flag) -> frozenset[str]:
        if flag.subject_kind != "person":
            return frozenset()
        return self.hr_programmes if flag.rule in EMPLOYEE_RULES else self.care_programmes


def may_see(user: User, flag: Flag, policy: ConsentPolicy, joined: frozenset[str]) -> bool:
    """The flag is in the user's role and scope, and the person (if any) gave the consent it needs."""
    if not (user.may_see_rule(flag) and user.in_scope(flag.unit_id)):
        return False
    needed = policy.needed(flag)
    return not needed or bool(needed & joined)
