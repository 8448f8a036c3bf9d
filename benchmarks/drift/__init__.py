"""The parts of `python -m benchmarks.drift_eval` (issue 14): the simulated organisations, the detectors
compared on them, and the drift, level and care parts with their tables."""
