"""A history file's lines: JSON lines, plain or gzipped, numbered as an editor numbers them (what `replay`,
`replay --jobs` and `publish` read)."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

BOM = b"\xef\xbb\xbf"


class InputEndedEarly(Exception):
    """The file stops in the middle (a truncated .gz, a corrupt block): what came before was read."""

    def __init__(self, after_line: int, why: str) -> None:
        super().__init__(f"the file ends early after line {after_line:,} ({why}); the lines before it were read")
        self.after_line = after_line


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number in the file, line) for each line that is not blank. Numbers count blank lines too,
    so they match an editor's; a UTF-8 byte-order mark before the first line is not part of it."""
    opener = gzip.open if path.suffix == ".gz" else open
    lineno = 0
    try:
        with opener(path, "rb") as fh:  # type: ignore[operator]
            for raw in fh:
                lineno += 1
                line = raw.rstrip(b"\r\n")
                if lineno == 1 and line.startswith(BOM):
                    line = line[len(BOM):]
                if line.strip():
                    yield lineno, line
    except (EOFError, OSError, zlib.error) as exc:
        raise InputEndedEarly(lineno, str(exc) or type(exc).__name__) from exc


def open_lines(path: Path) -> Iterator[bytes]:
    for _, line in numbered_lines(path):
        yield line
