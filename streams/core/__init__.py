"""The pure domain: occasions, indicators, rules, detectors, flag policy. No I/O, no Kafka."""
