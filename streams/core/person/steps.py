"""One step of a person's fold: keep the facts, then let every rule look (the order of `RULES`)."""

from __future__ import annotations

from collections.abc import Iterable

from streams.core.config import MonitorConfig
from streams.core.person.facts import Fact
from streams.core.person.fold import Emits, PersonFacts, PersonFold
from streams.core.person.rules import RULES, PersonRule


class PersonSteps:
    def __init__(self, config: MonitorConfig, rules: Iterable[type[PersonRule]] = RULES) -> None:
        self.facts = PersonFacts(config)
        self.rules = [rule(config) for rule in rules]

    def step(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        """Fold `f` into `s` (mutated); what it concludes goes into `out`."""
        seen = self.facts.keep(s, f, out)
        if seen is None:
            return
        for rule in self.rules:
            rule.check(s, seen, subject, out)
