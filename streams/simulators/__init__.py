"""Simulated histories to run the monitor on (the demo, the tests, the benchmarks): `simulation.py`
(workplaces and care units, with drift, lateness and malformed lines drawn per seed),
`programme_scenarios.py` (a programme's enrolments with a known effect) and `patient_survey.py` (the care
scenario's patient survey). They write event lines; nothing here reads Kafka."""
