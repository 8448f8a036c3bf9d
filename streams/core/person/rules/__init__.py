"""The person rules, one per module. A new rule is a module here (a `PersonRule` subclass) plus its name in
`streams.models.vocab.Rule`, the wire contract of flags: every module of this package is loaded, and the
rules run in the order of `Rule`."""

from __future__ import annotations

import importlib
import pkgutil

from streams.core.person.rules.base import REGISTERED, PersonRule
from streams.models.vocab import Rule

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

RULES: tuple[type[PersonRule], ...] = tuple(REGISTERED[r.value] for r in Rule if r.value in REGISTERED)  # type: ignore[type-arg]
RULES_BY_NAME: dict[str, type[PersonRule]] = {r.rule.value: r for r in RULES}  # type: ignore[type-arg]

__all__ = ["RULES", "RULES_BY_NAME", "PersonRule"]
