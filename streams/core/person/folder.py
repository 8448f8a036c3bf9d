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
        """Fold `f` into `s`; what it concludes goes into `out`. `s`'s fields are set to new values, and
        the lists, dicts and occasions they held are left as they were: `s` is a copy of a fold
        (`PersonFold.copy`, `step`) that shares them."""
        seen = self.facts.keep(s, f, out)
        if seen is None:
            return
        states, own = s.rules, False
        for rule, name, initial in self._rules_for[f.kind]:
            state = states.get(name, initial)
            after = rule.update(state, s, seen, subject, out)
            if after is state or (after == initial and name not in states):
                continue
            if not own:  # the first rule state changed: a dict of this fold's own
                states, own = dict(states), True
                s.rules = states
            if after == initial:
                del states[name]
            else:
                states[name] = after

    def step(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> PersonFold:
        """The fold after `f`, `s` unchanged (it may be kept: the tracker keeps one after each pending fact)."""
        after = s.copy()
        self.fold(after, f, subject, out)
        return after
