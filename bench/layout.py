"""The house plan, measured: import circles and upward imports, module sizes, what importing the face utilities
loads, how long `mffcnn predict` takes to start, and repeated code — for this checkout and an earlier revision.

    python bench/layout.py [--before fca7c45] [--repeats 5] [--out BENCHMARKS.md]

Each revision is checked out in a temporary worktree. The imports are read with grimp (import-linter's engine),
every import counted, those inside functions too:
* circles: strongly connected groups of modules (a module that imports another that, directly or round a ring,
  imports it back);
* upward imports: an import from a lower layer into a higher one, by the layers of docs/architecture.md
  (cli → commands → studies/export/serve → report/train/predict → gradcam/checkpoint → data/model → the rest);
  the modules of an earlier layout are placed where their role puts them (experiment, ablate and transfer are
  studies, as is an earlier gradcam.py that ran the Grad-CAM study; report/browser.py is a bench tool).
Start-up is the median of --repeats whole processes `mffcnn predict SAMPLE --no-detect` on one 60×60 face.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [  # top first; a module belongs to the first layer whose prefix it starts with
    ["mffcnn.cli", "mffcnn.__main__"],
    ["mffcnn.commands"],
    [
        "mffcnn.studies",
        "mffcnn.export",
        "mffcnn.serve",
        "mffcnn.experiment",
        "mffcnn.ablate",
        "mffcnn.transfer",
        "mffcnn.report.browser",
    ],
    ["mffcnn.report", "mffcnn.train", "mffcnn.predict"],
    ["mffcnn.gradcam", "mffcnn.checkpoint"],
    ["mffcnn.data", "mffcnn.model"],
    ["mffcnn.paper", "mffcnn.errors", "mffcnn.runs", "mffcnn.progress"],
]


def layer_of(module: str, studies: frozenset = frozenset()) -> int | None:
    """The layer a module sits in; `studies`: modules of an earlier layout that ran a study (gradcam.py, which
    held the Grad-CAM run beside the algorithm) sit with the studies."""
    if module in studies:
        return 2
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def imports(code: Path) -> tuple[int, list[list[str]], list[str]]:
    """(modules, circles, upward imports) of the mffcnn package at `code`."""
    script = f"""
import json, sys
sys.path.insert(0, {str(code)!r})
import grimp
g = grimp.build_graph("mffcnn", include_external_packages=False)
edges = [(a, b) for a in g.modules for b in g.find_modules_directly_imported_by(a)]
print(json.dumps({{"modules": sorted(g.modules), "edges": edges}}))
"""
    import json

    out = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    modules = [m for m in out["modules"] if not m.endswith("__init__")]
    graph: dict[str, set[str]] = {m: set() for m in out["modules"]}
    for a, b in out["edges"]:
        graph[a].add(b)
    circles = [c for c in _strongly_connected(graph) if len(c) > 1]
    runs = frozenset({"mffcnn.gradcam"} if "def gradcam(" in (code / "mffcnn" / "gradcam.py").read_text() else ())
    layers = {m: layer_of(m, runs) for m in graph}
    upward = [f"{a} → {b}" for a, b in out["edges"] if None not in (layers[a], layers[b]) and layers[b] < layers[a]]
    return len(modules), circles, sorted(upward)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.append(m)
                        if m == node:
                            break
                    out.append(sorted(component))
    return out


def sizes(code: Path) -> tuple[int, str, int]:
    """(number of .py modules, the largest, its lines)."""
    files = list((code / "mffcnn").rglob("*.py"))
    largest = max(files, key=lambda p: len(p.read_text().splitlines()))
    return len(files), str(largest.relative_to(code)), len(largest.read_text().splitlines())


def face_import(code: Path, repeats: int) -> tuple[int, float]:
    """Modules loaded and median seconds of `python -X importtime -c "import mffcnn.data.face"`."""
    loaded, seconds = 0, []
    for _ in range(repeats):
        p = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import mffcnn.data.face"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(code)},
            check=True,
        )
        lines = [line for line in p.stderr.splitlines() if line.startswith("import time:") and "|" in line]
        loaded = len(lines) - 1  # the header line
        seconds.append(int(re.split(r"\s*\|\s*", lines[-1])[1]) / 1e6)  # cumulative µs of the last, the top import
    return loaded, statistics.median(seconds)


def startup(code: Path, image: Path, repeats: int) -> float:
    """Median seconds of the whole process `mffcnn predict IMAGE --no-detect`."""
    seconds = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "mffcnn", "predict", str(image), "--no-detect", "-q", "-o", out],
                env={**os.environ, "PYTHONPATH": str(code)},
                cwd=code,
                capture_output=True,
                check=True,
            )
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def duplicates(code: Path) -> str:
    try:
        p = subprocess.run(["duplicates"], cwd=code, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "–"
    first = p.stdout.splitlines()[0] if p.stdout else ""
    return first.split(" pair")[0] if "pair" in first else ("0" if "no duplicates" in first else "–")


def one_face(folder: Path) -> Path:
    import cv2

    from mffcnn.data.datasets.synthetic import generate

    face = next(iter(generate(subjects=1, per_class=1, seed=0, size=60)))[0]
    path = folder / "face.png"
    cv2.imwrite(str(path), face)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="fca7c45", help="the earlier revision")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()

    rows, details = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before = tmp / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.before], cwd=ROOT, check=True, capture_output=True
        )
        image = one_face(tmp)
        try:
            for name, code in ((f"before (`{args.before}`)", before), ("after (this checkout)", ROOT)):
                n, circles, upward = imports(code)
                count, largest, lines = sizes(code)
                loaded, seconds = face_import(code, args.repeats)
                rows.append(
                    f"| {name} | {count} | {len(circles)} | {len(upward)} | `{largest}` ({lines} lines) | "
                    f"{loaded} modules, {seconds:.2f} s | {startup(code, image, args.repeats):.2f} s | "
                    f"{duplicates(code)} |"
                )
                details += [
                    f"- {name}: circles "
                    + ("; ".join(" ↔ ".join(c) for c in circles) or "none")
                    + "; upward imports "
                    + ("; ".join(upward) or "none")
                ]
                print(rows[-1], flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, capture_output=True)
    write_section(
        args.out,
        "layout",
        "The house plan, measured",
        [
            "| code | modules | import circles | upward imports | largest module | `import mffcnn.data.face` | "
            "`mffcnn predict face.png` | `duplicates` pairs |",
            "|---|---:|---:|---:|---|---|---:|---:|",
            *rows,
            "",
            *details,
        ],
    )


if __name__ == "__main__":
    main()
