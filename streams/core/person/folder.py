"""One step of a person's fold: keep the shared facts, then let every rule that reads the fact's kind update
its state (in the order of `RULES`)."""

from __future__ import annotations

from collections.abc import Iterable

from streams.core.config import MonitorConfig
from streams.core.person.facts import Fact
from streams.core.person.fold import Emits, PersonFacts, PersonFold
from streams.core.person.rules import RULES, PersonRule
from streams.models.vocab import EventKind


class Folder:
    """Folds one fact into a person\'s fold: the shared facts kept, then each rule that reads its kind."""

    def __init__(self, config: MonitorConfig, rules: Iterable[type[PersonRule]] = RULES) -> None:  # type: ignore[type-arg]
        self.facts = PersonFacts(config)
        self.rules = [rule(config) for rule in rules]
        # Per kind, the rules that read it with their initial states, in the order of `RULES`.
        self._rules_for = {kind: [(r, r.rule.value, r.initial()) for r in self.rules if kind in r.kinds]
                           for kind in EventKind}

    def fold(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        """Fold `f` into `s` (mutated); what it concludes goes into `out`."""
        seen = self.facts.keep(s, f, out)
        if seen is None:
            return
        states = s.rules
        for rule, name, initial in self._rules_for[f.kind]:
            state = states.get(name, initial)
            after = rule.update(state, s, seen, subject, out)
            if after is state:
                continue
            if after == initial:
                states.pop(name, None)
            else:
                states[name] = after
