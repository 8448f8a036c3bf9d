"""Faust agents and topics: decode -> call the core -> encode/send -> count. Nothing else."""
