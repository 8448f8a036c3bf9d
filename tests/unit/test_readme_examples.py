"""The worked examples of docs/contributing.md ("How it fits together") work as written.

Each `### Adding ...` section is applied to a fresh copy of `streams/` (blocks that start with
`# new file: PATH`, `# in PATH, after the line: ANCHOR`, `# in PATH, before the line: ANCHOR` or
`# in PATH, replace: TEXT`, every occurrence), then its `# check` block runs against that copy in a separate process.
An example that no longer fits the code fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ["Adding an event kind", "Adding a rule", "Adding a drift detector"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def section(title: str) -> list[str]:
    text = (ROOT / "docs" / "contributing.md").read_text()
    start = text.index(f"### {title}\n")
    end = min(i for i in (text.find("\n### ", start + 1), text.find("\n## ", start + 1)) if i > 0)
    return BLOCK.findall(text[start:end])


def apply(block: str, tree: Path) -> None:
    head, _, body = block.partition("\n")
    if m := re.fullmatch(r"# new file: (\S+)", head):
        (tree / m[1]).write_text(body)
        return
    m = re.fullmatch(r"# in (\S+), (after the line|before the line|replace): (.+)", head)
    assert m, f"not an example block: {head!r}"
    path = tree / m[1]
    text = path.read_text()
    anchor = m[3]
    if m[2] == "replace":  # every occurrence
        assert anchor in text, f"{anchor!r} is not in {m[1]}"
        text = text.replace(anchor, body.rstrip("\n"))
    else:
        assert text.count(anchor) == 1, f"{anchor!r} must occur once in {m[1]}"
        start = text.index(anchor)
        line_start = text.rindex("\n", 0, start) + 1
        line_end = text.index("\n", start) + 1
        text = text[:line_end] + body + text[line_end:] if m[2] == "after the line" else \
            text[:line_start] + body + text[line_start:]
    path.write_text(text)


@pytest.mark.parametrize("title", SECTIONS)
def test_readme_example_applies_to_the_code_and_does_what_it_says(title: str, tmp_path: Path) -> None:
    blocks = section(title)
    checks = [b for b in blocks if b.startswith("# check\n")]
    assert len(checks) == 1
    shutil.copytree(ROOT / "streams", tmp_path / "streams", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__", "golden"))
    for block in blocks:
        if block not in checks:
            apply(block, tmp_path)
    script = "import streams, sys\nassert streams.__file__.startswith(sys.argv[1]), streams.__file__\n" + checks[0]
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=tmp_path, capture_output=True,
                            text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
