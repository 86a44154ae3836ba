"""What the benches write: their section of docs/PERFORMANCE.md and the verdict on a target."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "PERFORMANCE.md"


def verdict(ok: bool) -> str:
    return "meets" if ok else "**MISSES**"


def section_write(name: str, lines: list[str]) -> None:
    """Print the bench ``name``'s section and put it in docs/PERFORMANCE.md, in place of its
    previous one (between ``<!-- bench:<name>:begin -->`` and ``… :end -->``), or at the end."""
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    section = "\n".join([begin, *lines, end])
    print(section)
    text = (
        DOC.read_text()
        if DOC.exists()
        else "# Performance\n\nFigures measured by the scripts in `bench/`.\n"
    )
    if begin in text:
        text = re.sub(
            re.escape(begin) + ".*?" + re.escape(end), lambda _m: section, text, flags=re.S
        )
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text)
