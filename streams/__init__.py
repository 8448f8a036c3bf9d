"""outcome-monitor: streaming monitor of care and HR outcomes."""

from __future__ import annotations

__version__ = "0.1.0"
