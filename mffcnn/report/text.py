"""How numbers and tables are written, the same in every report: percentages, Markdown tables, protocol titles."""

from __future__ import annotations

import os
from pathlib import Path

PROTOCOL_TITLES = {  # without the number of folds; protocol_title says it
    "random": "random stratified folds (the paper's protocol)",
    "subject": "subject-independent folds (no person in both train and test)",
}


def protocol_title(protocol: str, folds: int | None = None) -> str:
    """A protocol's title with the run's own number of folds: a 5-fold run is not called 10-fold."""
    if folds is None:
        return PROTOCOL_TITLES.get(protocol, protocol)
    if protocol == "random":
        paper = "the paper's protocol" + ("" if folds == 10 else ", which has 10 folds")
        return f"random stratified {folds}-fold ({paper})"
    if protocol == "subject":
        return f"subject-independent {folds}-fold (no person in both train and test)"
    return f"{protocol}, {folds} folds"


def pct(x: float | None, digits: int = 2) -> str:
    """A fraction as a percentage without the sign (0.9876 → "98.76"); "–" for None."""
    return "–" if x is None else f"{100 * x:.{digits}f}"


def md_table(header: list[str], body: list[list[str]], align: list[str] | None = None) -> list[str]:
    """The lines of a Markdown table."""
    align = align or ["---"] * len(header)
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|", *["| " + " | ".join(r) + " |" for r in body]]


def duration(seconds: float | None) -> str:
    """Seconds as s, min or h, whichever reads best."""
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def machine_line(m: dict | None) -> str:
    """A run's recorded machine (runs.machine_info) in one line."""
    if not m:
        return "–"
    return (
        f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, Python {m.get('python', '?')}, torch {m.get('torch', '?')}"
    )


def short_path(path: Path) -> str:
    """A path relative to here, when it can be."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def synthetic_tag(r: dict) -> str:
    return " (synthetic)" if r.get("synthetic") else ""
