"""Programme outcomes: did the people we enrolled fare better than they would have without us,
and what did it save? Pure folds and estimates, no I/O: `ledger` (a person's monthly outcome aggregates),
`cohort` (members and their windows), `days`, `trial`, `diagnostics` and `estimate` (the effect as emulated
target trials, and what tells whether to trust it), `money`
(cost tables), `ordinal` (survey answers), `results` (everything a steering group's report shows)."""
