"""Build the HTML report and open it in a real headless Chromium: screenshot it and check it.

    python bench/report_browser.py runs/cv/exp runs/bench/ablate/ablation-ckplus48 runs/bench/gradcam/...
    python bench/report_browser.py            # no runs given: makes tiny synthetic runs of every kind first

Chromium comes from Debian's packages (`apt-get install -y chromium`). It runs with --headless
--no-sandbox --disable-gpu and no network, profile or updates (bench/browser.py: FLAGS), on a new
temporary profile folder. Checks, from the browser itself: the number of tables and images in the
DOM it built and how many of the images decoded (a probe script in a copy of the page; the report
itself has none), that the 1200×3000 screenshot is not blank, and that a full-page screenshot shows
the figures (coloured pixels, at least 1 % of the page). Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import check_in_browser, find_browser  # noqa: E402
from markdown import write_section  # noqa: E402

from mffcnn.report.collect import find_runs  # noqa: E402
from mffcnn.report.html import build_report  # noqa: E402
from mffcnn.runs import new_run_dir  # noqa: E402


def tiny_runs(project: Path) -> list[Path]:
    """A run of every kind, on the synthetic faces, in about a minute."""
    from mffcnn.studies.ablate import ablate
    from mffcnn.studies.cv import cross_validate
    from mffcnn.studies.evaluate import evaluate
    from mffcnn.studies.gradcam import gradcam
    from mffcnn.studies.train import train

    data = {"subjects": 6, "per_class": 2}
    cv_dir, _ = cross_validate("synthetic", folds=2, epochs=1, dataset_options=data, project=project, verbose=False)
    ablate_dir, _ = ablate("synthetic", folds=2, epochs=1, dataset_options=data, project=project, verbose=False)
    train_dir, _ = train("synthetic", epochs=3, dataset_options=data, project=project, verbose=False)
    gradcam_dir, _ = gradcam(
        train_dir / "model.safetensors",
        dataset="synthetic",
        dataset_options={"subjects": 3},
        project=project,
        verbose=False,
    )
    eval_dir, _ = evaluate(
        train_dir / "model.safetensors", "synthetic", dataset_options={"subjects": 3}, project=project, verbose=False
    )
    return [cv_dir, ablate_dir, gradcam_dir, eval_dir, train_dir]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="*", help="run folders (default: make tiny synthetic runs)")
    ap.add_argument("--project", default="runs/bench")
    ap.add_argument("--window", default="1200x3000", help="screenshot size, WIDTHxHEIGHT")
    ap.add_argument("--out", default="BENCHMARKS.md", help="BENCHMARKS.md to write the result to ('' for none)")
    args = ap.parse_args()

    browser = find_browser()
    if not browser:
        sys.exit("no Chromium found: apt-get install -y chromium")
    version = subprocess.run([browser, "--version"], capture_output=True, text=True).stdout.strip()
    runs = [Path(r) for r in args.runs] or tiny_runs(Path(args.project) / "report-demo")
    found = find_runs(runs)
    out_dir = new_run_dir(args.project, "report", "browser")
    html_path, md_path = build_report(runs, out=out_dir)
    # What the page must show: a table per section at least, and every figure of every run.
    from mffcnn.report.html import report_blocks
    from mffcnn.report.page import Figure, FigureRow, Table

    blocks = report_blocks(found, "check")
    tables = sum(isinstance(b, Table) for b in blocks)
    images = sum(1 if isinstance(b, Figure) else len(b.figures) if isinstance(b, FigureRow) else 0 for b in blocks)
    width, height = map(int, args.window.lower().split("x"))
    # The window screenshot (the top of the page) must not be blank; the full-page one must show figures.
    check = check_in_browser(
        html_path,
        out_dir / "screenshot.png",
        window=(width, height),
        expect_tables=tables,
        expect_images=images,
        expect_figures=False,
    )
    full = check_in_browser(
        html_path,
        out_dir / "screenshot_full.png",
        window=(width, min(check.page_height, 30000)),
        expect_tables=tables,
        expect_images=images,
    )
    problems = check.problems + [p for p in full.problems if p not in check.problems]
    status = "passed" if not problems else "FAILED: " + "; ".join(problems)
    kinds = ", ".join(sorted({r.kind for r in found}))
    lines = [
        f"Browser: {version}.",
        "",
        f"Report of {len(found)} runs ({kinds}): {html_path.stat().st_size / 1e6:.1f} MB, one file, every image "
        "embedded. In the browser's DOM: "
        f"**{check.tables} tables** (expected {tables}), **{check.images} images, {check.decoded} decoded** "
        f"(expected {images}); page height {check.page_height} px. Screenshot {width}×{height}: "
        f"{'blank' if check.blank else 'not blank'}, {100 * check.coloured_fraction:.1f} % coloured pixels "
        f"(figures); full page {100 * full.coloured_fraction:.1f} %. Check {status}.",
        "",
        f"Screenshots: `{out_dir / 'screenshot.png'}`, `{out_dir / 'screenshot_full.png'}`; report: `{html_path}`.",
    ]
    if args.out:
        write_section(args.out, "report_browser", "HTML report in a real browser", lines)
    else:
        print("\n".join(lines))
    print(f"markdown: {md_path}")
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
