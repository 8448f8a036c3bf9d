"""What the benchmarks run on and how they report as they go: the machine, the resident memory of this
process and of a worker process, a fresh Python process for a measurement, progress lines on stderr."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def process_rss(worker: object, field: str = "VmRSS") -> int:
    """Resident memory of a worker process, from /proc (`field` "VmHWM": its peak so far)."""
    pid = worker.proc.pid  # type: ignore[attr-defined]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def process_cpu_s(worker: object) -> float:
    """CPU seconds a worker process has used so far, all its threads, user and system (/proc/PID/stat).
    Per event over a drain, it moves less with the machine's load than the drain's events a second do."""
    pid = worker.proc.pid  # type: ignore[attr-defined]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def in_fresh_process(code: str) -> dict[str, object]:
    """Run `code` in a Python process of its own, started in the project's root; the last line it
    prints, read as JSON."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))
