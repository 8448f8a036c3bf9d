"""One step of a person's fold: keep the facts, then let every rule look (the order of `RULES`)."""

from __future__ import annotations

from collections.abc import Iterable

from streams.core.config import MonitorConfig
from streams.core.person.facts import Fact
from streams.core.person.fold import Emits, PersonFacts, PersonFold
from streams.core.person.rules import RULES, PersonRule
from streams.models.vocab import EventKind


class PersonSteps:
    def __init__(self, config: MonitorConfig, rules: Iterable[type[PersonRule]] = RULES) -> None:
        self.facts = PersonFacts(config)
        self.rules = [rule(config) for rule in rules]
        # A rule may say which event kinds it looks at (`kinds`, a set of EventKind); one that does not is
        # shown every fact. Per kind, the rules to show it, in the order of `RULES`.
        self._rules_for = {kind: [r for r in self.rules if kind in getattr(r, "kinds", (kind,))] for kind in EventKind}

    def step(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        """Fold `f` into `s` (mutated); what it concludes goes into `out`."""
        seen = self.facts.keep(s, f, out)
        if seen is None:
            return
        for rule in self._rules_for.get(f.kind, self.rules):
            rule.check(s, seen, subject, out)
