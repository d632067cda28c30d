"""Every measured number in README.md and docs/ is one that a script in bench/ wrote to BENCHMARKS.md.

A number that looks measured (a decimal, a count with thousands separators, or any number with a unit such as
%, ms, s, min, faces/s, MB or ×) must appear in BENCHMARKS.md, which only bench/ scripts write (each section
says the command that wrote it), or in mffcnn/paper.py, which holds the paper's own numbers. Example output in
fenced code blocks is left out: it shows what a command prints, not a claim. A number typed by hand, or left
behind when BENCHMARKS.md was regenerated, fails here with its file and line.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITS = r"%|ms\b|s\b|min\b|h\b|faces/s|MB\b|MiB\b|GiB\b|KiB\b|×|pp\b|GFLOP|MFLOP|M\b|k\b"
# A number not inside a word, a version ("3.11.7") or a section (§4.2), and (captured) the unit after it.
NUMBER = re.compile(rf"(?<![\w.§/-])(\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+\.\d+|\d+)(?![\w.]|\.\d)(?: ?({UNITS}))?")
# Numbers that look measured but are not, each with its reason.
NOT_MEASURED = {
    "3.11": "the Python version the project needs",
    "7.5": "receptive-field arithmetic of the architecture (docs/insight.md), not a measurement",
    "17.5": "receptive-field arithmetic of the architecture (docs/insight.md), not a measurement",
    "9.5": "receptive-field arithmetic of the architecture (docs/insight.md), not a measurement",
    "0.03": "an example value of --min-face (docs/predict.md), not a measurement",
    "2.10": "the PyTorch version that deprecates TorchScript (docs/predict.md)",
    "35,887": "FER2013's size as its authors publish it (docs/datasets.md), not a measurement",
    "300,000": "the number of faces bench/scale.py is told to time (docs/training.md), an input, not a result",
}


def measured_numbers(text: str):
    """(line number, number, unit) of each measured-looking number outside fenced code blocks."""
    fenced = False
    for i, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):  # an indented block is code too
            continue
        for m in NUMBER.finditer(line):
            number, unit = m.group(1), m.group(2)
            if "." in number or "," in number or unit:
                yield i, number, unit or ""


def traced(number: str, sources: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", sources) is not None or (
        "," in number and re.search(rf"(?<![\d.,]){number.replace(',', '')}(?![\d])", sources) is not None
    )


def test_measured_looking_numbers_are_recognised():
    text = "Ours 96.76 ± 2.49 %, 5,222 faces/s, 14 ms; Python 3.11.7, §4.2, conv3 and 16 patches.\n```\n0.9931\n```"
    assert [(n, u) for _, n, u in measured_numbers(text)] == [
        ("96.76", ""),
        ("2.49", "%"),
        ("5,222", "faces/s"),
        ("14", "ms"),
    ]


def test_every_measured_number_in_the_docs_comes_from_a_script():
    sources = (ROOT / "BENCHMARKS.md").read_text() + (ROOT / "mffcnn" / "paper.py").read_text()
    untraced = [
        f"{path.relative_to(ROOT)}:{line}: {number} {unit}".rstrip()
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        for line, number, unit in measured_numbers(path.read_text())
        if number not in NOT_MEASURED and not traced(number, sources)
    ]
    assert not untraced, "numbers that no bench/ script wrote to BENCHMARKS.md:\n" + "\n".join(untraced)
