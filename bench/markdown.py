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


def write_section(path: str | Path, name: str, title: str, lines: list[str], *, reused: list[str] = ()) -> str:
    """BENCHMARKS.md's section `name`: "## title", the command exactly as it was run (its arguments, a --reuse
    among them), the date and the machine, which results were reused from earlier runs, then `lines`.
    Printed, written to `path`, returned."""
    import datetime
    import shlex
    import sys

    from mffcnn.runs import machine_info

    m = machine_info()
    command = shlex.join(["python", *sys.argv])
    where = (
        f"{datetime.date.today()}, on {m['cpu']} ({m['cores']} cores, torch {m['torch']}, {m['torch_threads']} threads)"
    )
    again = f" Reused, not run again (same data and code): {', '.join(reused)}." if reused else ""
    body = "\n".join([f"## {title} (`python {sys.argv[0]}`)", "", f"Command: `{command}`, {where}.{again}", "", *lines])
    update_section(path, name, body)
    print(body)
    return body
