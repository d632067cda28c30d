"""How numbers and tables are written, the same in every report: percentages, Markdown tables, protocol titles."""

from __future__ import annotations

PROTOCOL_TITLES = {
    "random": "random stratified 10-fold (the paper's protocol)",
    "subject": "subject-independent folds (no person in both train and test)",
}


def pct(x: float | None, digits: int = 2) -> str:
    """A fraction as a percentage without the sign (0.9876 → "98.76"); "–" for None."""
    return "–" if x is None else f"{100 * x:.{digits}f}"


def md_table(header: list[str], body: list[list[str]], align: list[str] | None = None) -> list[str]:
    """The lines of a Markdown table."""
    align = align or ["---"] * len(header)
    return ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|", *["| " + " | ".join(r) + " |" for r in body]]
