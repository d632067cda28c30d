"""Each bench script owns one section of BENCHMARKS.md, between markers, and rewrites only that."""

from __future__ import annotations

import re
from pathlib import Path


def update_section(path: str | Path, name: str, body: str) -> None:
    path = Path(path)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = (
        path.read_text()
        if path.exists()
        else "# Benchmarks\n\nEvery number here is written by a script in bench/; rerun it to check.\n"
    )
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
