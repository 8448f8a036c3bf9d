"""Files generated from code (JSON Schema, Grafana dashboards): write them, or tell which are stale."""

from __future__ import annotations

from pathlib import Path


def stale(rendered: dict[str, str], directory: Path) -> list[str]:
    """Names whose file is missing or differs from what the code renders."""
    return [n for n, text in rendered.items()
            if not (directory / n).exists() or (directory / n).read_text() != text]


def write(rendered: dict[str, str], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in rendered.items():
        (directory / name).write_text(text)
        paths.append(directory / name)
    return paths


def check_or_write(label: str, rendered: dict[str, str], directory: Path, check: bool, regenerate: str) -> int:
    """The CLI's behaviour for both: `--check` fails on stale files, otherwise (re)write them."""
    import sys

    if check:
        names = stale(rendered, directory)
        if names:
            print(f"{label}: stale or missing: {', '.join(names)}; run `{regenerate}`", file=sys.stderr)
            return 1
        print(f"{label}: up to date")
        return 0
    for path in write(rendered, directory):
        print(f"{label}: wrote {path}")
    return 0
