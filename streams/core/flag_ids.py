"""Deterministic flag ids: the same rule, subject and anchor give the same id on every run."""

from __future__ import annotations

import hashlib


def flag_id(rule: str, subject_id: str, anchor: str) -> str:
    digest = hashlib.sha256(f"{rule}\x1f{subject_id}\x1f{anchor}".encode()).hexdigest()
    return f"f_{digest[:24]}"
