"""The organisation: trend-adjusted drift of each unit against the rest, with pluggable detectors."""
