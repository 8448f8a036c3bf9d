"""Programme outcomes: did the people we enrolled fare better than they would have without us,
and what did it save? Pure folds and estimates, no I/O: `ledger` (a person's monthly outcome aggregates),
`cohort` (members and their windows), `matching` and `estimate` (the effect against a reference), `money`
(cost tables), `ordinal` (survey answers), `results` (everything a steering group's report shows)."""
