"""Every bad-input case of issue 17, end to end through the CLI, before and after: one table in BENCHMARKS.md.

    python bench/bad_input_cases.py --checkout /tmp/base17 --save /tmp/before.json   # today's behaviour
    python bench/bad_input_cases.py [--before bench/bad_input_before.json] [--out BENCHMARKS.md]  # and the table
    (or: --save /tmp/after.json on this checkout, then --before /tmp/before.json --after /tmp/after.json)

Each case builds its inputs in a fresh temporary folder (synthetic images and videos drawn here; no dataset, no
photo), runs `python -m mffcnn …` with the given checkout first on PYTHONPATH, and sums up what happened in one
cell: the exit status, the last line on stderr, and the facts that matter (were the inputs overwritten, what
predictions.json holds, …). `--checkout` runs another checkout of mffcnn (e.g. the commit before the fixes, from
`git worktree add`), `--save` keeps its cells as JSON; `--before` reads them back and writes the table with this
checkout's cells beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from markdown import write_section  # noqa: E402

CELL = 150  # characters of a table cell
START_DELAYS = (0.4, 0.8, 1.2, 1.6)  # seconds from the start to a Ctrl-C: while Python, torch and OpenCV load


@dataclass
class Run:
    """One CLI process: its exit status and its output."""

    rc: int | None  # None: still running when it was stopped
    out: str
    err: str

    def last(self) -> str:
        lines = [line for line in self.err.strip().splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""

    def status(self) -> str:
        if self.rc is None:
            return "still running (stopped)"
        if self.rc < 0:
            return f"killed by signal {signal.Signals(-self.rc).name}"
        return f"exit {self.rc}"

    def brief(self) -> str:
        tb = "; traceback" if "Traceback" in self.err else ""
        last = self.last()
        return f"{self.status()}{tb}" + (f": {last}" if last else "")


class Runner:
    """Runs `python -m mffcnn` of one checkout in a working folder."""

    def __init__(self, checkout: Path):
        self.checkout = checkout

    def env(self) -> dict:
        return {**os.environ, "PYTHONPATH": str(self.checkout), "OMP_NUM_THREADS": "1", "MFFCNN_NO_CACHE": "1"}

    def popen(self, argv: list[str], cwd: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "mffcnn", *argv],
            cwd=cwd,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            # A shell's background jobs ignore SIGINT, and so would their children: give Ctrl-C its default back
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def run(self, argv: list[str], cwd: Path, *, timeout: float = 300) -> Run:
        p = self.popen(argv, cwd)
        try:
            out, err = p.communicate(timeout=timeout)
            return Run(p.returncode, out, err)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            return Run(None, out, err)

    def interrupt(self, argv: list[str], cwd: Path, when: Callable[[], bool], *, limit: float = 120) -> Run:
        """Start, send SIGINT once `when()` holds (or `limit` seconds pass), and wait."""
        p = self.popen(argv, cwd)
        start = time.monotonic()
        while not when() and p.poll() is None and time.monotonic() - start < limit:
            time.sleep(0.05)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        return Run(p.returncode, out, err)


# --- inputs, drawn here -------------------------------------------------------------------------------------------


def face(seed: int, size: int = 160) -> np.ndarray:
    """A synthetic face (mffcnn's own generator), grey uint8, size × size."""
    from mffcnn.data.datasets import synthetic

    f, *_ = list(synthetic.generate(subjects=1, per_class=1, seed=seed, size=60))[seed % 6]
    return cv2.resize(f, (size, size))


def photos(folder: Path, n: int, ext: str = ".jpg") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"p{i:03d}{ext}"
        cv2.imwrite(str(path), cv2.cvtColor(face(i), cv2.COLOR_GRAY2BGR))
        paths.append(path)
    return paths


def predictions(folder: Path) -> str:
    path = folder / "predictions.json"
    if not path.exists():
        return "no predictions.json"
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"predictions.json unreadable ({path.stat().st_size} bytes)"
    statuses: dict[str, int] = {}
    for r in doc["results"]:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    partial = ", partial" if doc.get("partial") else ""
    return f"predictions.json: {', '.join(f'{v} {k}' for k, v in statuses.items())}{partial}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_model(runner: Runner, tmp: Path) -> Path:
    argv = "train synthetic --subjects 2 --per-class 1 --epochs 1 -q --device cpu".split()
    runner.run([*argv, "--project", str(tmp / "runs")], tmp)
    return next((tmp / "runs").rglob("model.safetensors"))


# --- the cases ----------------------------------------------------------------------------------------------------


def save_over_inputs(r: Runner, tmp: Path) -> str:
    inputs = photos(tmp / "photos", 3)
    before = [p.read_bytes() for p in inputs]
    run = r.run(["predict", "photos", "--save", "-o", "photos", "-q"], tmp)
    changed = sum(p.read_bytes() != b for p, b in zip(inputs, before))
    return f"{run.brief()}; {changed} of 3 photos overwritten"


def ctrl_c_folder(r: Runner, tmp: Path) -> str:
    photos(tmp / "photos", 300)
    out = tmp / "out"
    # --no-detect: every image is a face, so batches of 16 are classified (and saved) as the run goes
    argv = ["predict", "photos", "--save", "-o", "out", "-q", "--no-detect", "--batch-size", "16"]
    run = r.interrupt(argv, tmp, lambda: len(list(out.glob("p*.jpg"))) >= 20)
    return f"{run.brief()}; {len(list(out.glob('p*.jpg')))} annotated images; {predictions(out)}"


def ctrl_c_start(r: Runner, tmp: Path) -> str:
    """SIGINT at several moments of the start (where it lands depends on the machine): the outcomes, counted."""
    photos(tmp / "photos", 1)
    seen: dict[str, int] = {}
    for delay in START_DELAYS:
        start = time.monotonic()
        run = r.interrupt(
            ["predict", "photos", "-o", "out", "-q"], tmp, lambda s=start, d=delay: time.monotonic() - s > d
        )
        lines = len(run.err.strip().splitlines())
        key = (
            f"{run.status()}{', traceback' if 'Traceback' in run.err else ''}, {lines} stderr line{'s' * (lines != 1)}"
        )
        if "init_import_site" in run.err:  # Python's own start-up (site), before the first line of mffcnn runs
            key = "a traceback of Python's own start-up (site, before mffcnn runs)"
        seen[key] = seen.get(key, 0) + 1
    return "; ".join(f"{n}× {k}" for k, n in seen.items())


def non_utf8(r: Runner, tmp: Path) -> str:
    photos(tmp / "photos", 1)
    with open(os.path.join(os.fsencode(tmp / "photos"), b"x\xff\xfey.jpg"), "wb") as f:
        f.write((tmp / "photos" / "p000.jpg").read_bytes())
    run = r.run(["predict", "photos", "-o", "out", "-q"], tmp)
    return f"{run.brief()}; {predictions(tmp / 'out')}"


def hdr_header(w: int, h: int) -> bytes:
    return b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %d +X %d\n" % (h, w)


def hdr_8000(r: Runner, tmp: Path) -> str:
    (tmp / "in").mkdir()
    (tmp / "in" / "big.png").write_bytes(hdr_header(8000, 8000) + b"\x02\x02\x1f\x40" * 64)
    run = r.run(["predict", "in", "-o", "out", "-q"], tmp)
    return f"{run.brief()}; {predictions(tmp / 'out')}"


def hdr_small(r: Runner, tmp: Path) -> str:
    (tmp / "in").mkdir()
    ok, data = cv2.imencode(".hdr", np.ones((100, 100, 3), np.float32))
    (tmp / "in" / "small.png").write_bytes(data.tobytes())
    run = r.run(["predict", "in", "-o", "out", "-q", "--max-megapixels", "0.001"], tmp)
    return run.brief()


def option(argv: str, *, timeout: float = 300) -> Callable[[Runner, Path], str]:
    def case(r: Runner, tmp: Path) -> str:
        photos(tmp / "photos", 1)
        args = argv.replace("PORT", str(free_port())).split()
        run = r.run(
            [*args, "--project", str(tmp / "runs")] if args[0] in ("train", "cv") else args, tmp, timeout=timeout
        )
        models = list((tmp / "runs").rglob("model.safetensors")) if (tmp / "runs").exists() else []
        return run.brief() + ("; model.safetensors written" if models else "")

    return case


def symlink_loop(r: Runner, tmp: Path) -> str:
    photos(tmp / "photos", 2)
    (tmp / "photos" / "sub").mkdir()
    os.symlink(tmp / "photos", tmp / "photos" / "sub" / "loop")
    run = r.run(["predict", "photos", "-o", "out", "-q"], tmp)
    warned = [line for line in run.err.splitlines() if "loop" in line]
    return f"{run.status()}; {predictions(tmp / 'out')}; " + (warned[0].split("warning: ")[-1] if warned else "no word")


def truncated_video(r: Runner, tmp: Path) -> str:
    path = tmp / "v.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 160))
    for i in range(30):
        w.write(cv2.cvtColor(np.roll(face(i % 6), 3 * i, 1), cv2.COLOR_GRAY2BGR))
    w.release()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 55 // 100])
    run = r.run(["predict", "v.avi", "-o", "out"], tmp)
    summary = [line for line in run.out.splitlines() if "file" in line and "video" in line]
    said = [line.split("warning: ")[-1] for line in run.err.splitlines() if "incomplete" in line]
    return f"{run.status()}; {summary[0] if summary else ''}" + (f"; {said[0]}" if said else "")


def flipped_jpeg(r: Runner, tmp: Path) -> str:
    ok, enc = cv2.imencode(".jpg", cv2.cvtColor(face(3, 400), cv2.COLOR_GRAY2BGR))
    data = bytearray(enc.tobytes())
    for i in np.random.default_rng(0).integers(600, len(data) - 10, 20):
        data[i] ^= 0xFF
    (tmp / "flipped.jpg").write_bytes(bytes(data))
    run = r.run(["predict", "flipped.jpg", "-o", "out", "-q"], tmp)
    return f"{run.status()}; {predictions(tmp / 'out')}: " + run.last().split("warning: ")[-1]


def gif(r: Runner, tmp: Path) -> str:
    from PIL import Image

    Image.fromarray(face(1, 200)).save(tmp / "a.gif")
    run = r.run(["predict", "a.gif", "-o", "out", "-q"], tmp)
    return f"{run.status()}; {predictions(tmp / 'out')}"


def evaluate_seen(r: Runner, tmp: Path) -> str:
    model = train_model(r, tmp)
    argv = ["evaluate", str(model), "synthetic", "--subjects", "2", "--per-class", "1", "-q"]
    run = r.run([*argv, "--project", str(tmp / "runs")], tmp)
    results = next((tmp / "runs" / "evaluate").rglob("results.json"), None)
    flag = json.loads(results.read_text()).get("seen_in_training", "absent") if results else "no results.json"
    said = [line.split("warning: ")[-1] for line in run.err.splitlines() if "trained on" in line]
    return f"{run.status()}; seen_in_training: {flag}" + (f"; {said[0]}" if said else "; no warning")


def folder_subjects(r: Runner, tmp: Path) -> str:
    for label, ext in (("happy", ".jpg"), ("anger", ".png")):
        photos(tmp / "tree" / label, 3, ext)
    argv = "cv folder tree --protocol subject --folds 2 --epochs 1 -q --device cpu".split()
    run = r.run([*argv, "--project", str(tmp / "runs")], tmp)
    results = next((tmp / "runs").rglob("results.json"), None) if (tmp / "runs").exists() else None
    n = json.loads(results.read_text())["n_subjects"] if results else "–"
    return f"{run.status()}; 6 images in happy/p00k.jpg, anger/p00k.png: {n} subjects"


def fold_wording(r: Runner, tmp: Path) -> str:
    argv = "cv synthetic --subjects 2 --per-class 2 --folds 2 --epochs 1 --protocol random -q --device cpu".split()
    run = r.run([*argv, "--project", str(tmp / "runs")], tmp)
    report = next((tmp / "runs").rglob("report.md")).read_text()
    said = "10-fold" if "10-fold" in report else ("2-fold" if "2-fold" in report else "no k")
    return f"{run.status()}; a 2-fold run's report.md says {said!r}"


def sfew_on_ckplus48(r: Runner, tmp: Path) -> str:
    for label in ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"):
        (tmp / "ck" / label).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(tmp / "ck" / label / f"S{10 + i:03d}_001_{i:08d}.png"), cv2.resize(face(i), (48, 48)))
    run = r.run(["prepare", "sfew", "ck", "--no-cache", "-q"], tmp)
    return run.brief() if run.rc else f"{run.status()}: {run.out.strip().splitlines()[-1]}"


def resume_hint(r: Runner, tmp: Path) -> str:
    argv = "cv synthetic --subjects 4 --per-class 3 --folds 2 --epochs 30 --device cpu -q".split()
    project = tmp / "my project"
    state = lambda: any(project.rglob("*.state.pt")) if project.exists() else False  # noqa: E731
    run = r.interrupt([*argv, "--project", str(project)], tmp, state)
    return run.brief().replace(str(project), "'my project'").replace("''", "'")


CASES: list[tuple[str, Callable[[Runner, Path], str]]] = [
    ("`predict photos --save -o photos`", save_over_inputs),
    ("Ctrl-C during a folder predict (300 images, once 20 are saved)", ctrl_c_folder),
    ("Ctrl-C 0.4, 0.8, 1.2, 1.6 s after start (modules loading)", ctrl_c_start),
    ("a file named `x\\xff\\xfey.jpg` (not UTF-8)", non_utf8),
    ("8000 × 8000 Radiance HDR header named .png", hdr_8000),
    ("100 × 100 Radiance HDR named .png, `--max-megapixels 0.001`", hdr_small),
    ("`train --epochs -1`", option("train synthetic --subjects 2 --per-class 1 --epochs -1 -q --device cpu")),
    ("`train --epochs -5`", option("train synthetic --subjects 2 --per-class 1 --epochs -5 -q --device cpu")),
    ("`train --epochs 0`", option("train synthetic --subjects 2 --per-class 1 --epochs 0 -q --device cpu")),
    (
        "`cv --folds 9`, 4 images per class",
        option("cv synthetic --subjects 2 --per-class 2 --folds 9 --epochs 1 --protocol random -q --device cpu"),
    ),
    ("`train --lr -1`", option("train synthetic --subjects 2 --per-class 1 --epochs 1 --lr -1 -q --device cpu")),
    ("`predict --threads -2`", option("predict photos -o out -q --threads -2")),
    ("`predict --max-megapixels nan`", option("predict photos -o out -q --max-megapixels nan")),
    ("`predict --max-megapixels inf`", option("predict photos -o out -q --max-megapixels inf")),
    ("`serve --max-body-mb nan`", option("serve --port PORT --max-body-mb nan", timeout=30)),
    ("`serve --body-timeout nan`", option("serve --port PORT --body-timeout nan", timeout=30)),
    ("a symbolic link loop in the input folder", symlink_loop),
    ("a video cut at 55 % (30 frames announced)", truncated_video),
    ("a JPEG with 20 bytes flipped", flipped_jpeg),
    ("`predict a.gif`", gif),
    ("`evaluate` a model on the people it was trained on", evaluate_seen),
    ("`folder` dataset without --subject-regex", folder_subjects),
    ("`cv --folds 2` report", fold_wording),
    ("`prepare sfew` on a CK+48 tree", sfew_on_ckplus48),
    ("Ctrl-C in `cv --project 'my project'`", resume_hint),
]


def run_all(checkout: Path, only: list[str] | None = None) -> dict[str, str]:
    runner, cells = Runner(checkout), {}
    for name, case in CASES:
        if only and not any(o in name for o in only):
            continue
        tmp = Path(tempfile.mkdtemp(prefix="mffcnn-bad-"))
        start = time.monotonic()
        try:
            cell = case(runner, tmp)
        except Exception as e:  # a case that cannot even be set up says so in its cell
            cell = f"case failed: {type(e).__name__}: {e}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        cells[name] = " ".join(cell.split())[:CELL]
        print(f"{name}: {cells[name]} ({time.monotonic() - start:.0f} s)", file=sys.stderr, flush=True)
    return cells


def cell(text: str) -> str:
    """A table cell: without the case's temporary folder, pipes escaped."""
    return re.sub(r"/tmp/mffcnn-bad-[^/]+/", "", text).replace("|", "\\|")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkout", default=str(HERE.parent), help="the mffcnn checkout to run (default: this one)")
    ap.add_argument("--save", help="write this checkout's cells as JSON here (and no table)")
    ap.add_argument(
        "--before",
        default=str(HERE / "bad_input_before.json"),
        help="the JSON of --save from the checkout before the fixes (default: bench/bad_input_before.json, recorded "
        "on 509c635)",
    )
    ap.add_argument("--after", help="the JSON of --save from this checkout: write the table without running again")
    ap.add_argument(
        "--only",
        help="with --save: run only the cases whose names hold one of these (comma-separated) "
        "and update their cells in the saved JSON",
    )
    ap.add_argument("--out", default="BENCHMARKS.md")
    args = ap.parse_args()
    only = args.only.split(",") if args.only else None
    if only and not args.save:
        ap.error("--only updates a --save file")
    if args.after:  # this checkout's cells, saved by an earlier --save run: only the table is written
        cells = json.loads(Path(args.after).read_text())
    else:
        cells = run_all(Path(args.checkout).resolve(), only)
    if args.save:
        saved = Path(args.save)
        kept = json.loads(saved.read_text()) if only and saved.exists() else {}
        saved.write_text(json.dumps({**kept, **cells}, indent=1, ensure_ascii=False) + "\n")
        return
    before = json.loads(Path(args.before).read_text()) if Path(args.before).exists() else {}
    lines = [
        "Each case of issue 17 run end to end through the CLI on synthetic inputs drawn by the script; *before* is "
        "the commit before the fixes (509c635, run from a `git worktree` with `--checkout … --save`), *after* this "
        "checkout. Not shown here, as it needs no CLI: the DDP test (tests/test_distributed.py) and an unreadable "
        "sub-folder (this machine runs as root, which reads every folder; tests/test_nothing_lost.py fakes the "
        "refusal).",
        "",
        "| case | before | after |",
        "|---|---|---|",
        *(f"| {cell(name)} | {cell(before.get(name, '–'))} | {cell(cells[name])} |" for name, _ in CASES),
    ]
    write_section(args.out, "bad_input_cases", "Bad input, before and after (issue 17)", lines)


if __name__ == "__main__":
    main()
