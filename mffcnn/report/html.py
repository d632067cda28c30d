"""One report from many run folders: a self-contained HTML page and the same in Markdown.

`mffcnn report RUN...` reads what the other modes wrote — cv runs (options.json + <protocol>/results.json),
ablation runs (results.json of kind "ablate"), Grad-CAM runs, evaluate and train runs — and puts our
results beside the paper's (Tables 2–5, the per-class accuracies of Figs. 4–7, Table 6), with the
confusion matrices, the ablation table, the Grad-CAM panels (Fig. 8), parameter counts, timings, and
the exact commands, machines and versions that produced each number.

The page is built once as a list of blocks (headings, text, tables, figures, code) and rendered twice:
to HTML with every image embedded as base64 (one file, no external assets: it can be mailed or
archived as it is), and to Markdown whose images link to the PNGs in the run folders.
"""

from __future__ import annotations

import base64
import datetime
import html
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mffcnn import paper
from mffcnn.errors import MffcnnError
from mffcnn.report.ablation import comparison_rows, table_rows, verdicts
from mffcnn.report.text import PROTOCOL_TITLES, pct
from mffcnn.runs import read_json

KINDS = ("cv", "sfew", "ablate", "gradcam", "evaluate", "train")


# --------------------------------------------------------------------------- blocks


@dataclass
class Heading:
    text: str
    level: int = 2
    anchor: str | None = None


@dataclass
class Text:
    text: str  # may use **bold** and `code`


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str | None = None
    numeric: list[bool] | None = None  # right-align these columns; guessed from the cells when None
    classes: list[str] = field(default_factory=list)  # per-row CSS class ("paper" rows are set apart)


@dataclass
class Figure:
    path: Path
    caption: str
    small: bool = False  # half the page width (confusion matrices), so that two sit side by side


@dataclass
class FigureRow:
    figures: list[Figure]


@dataclass
class Code:
    text: str


Block = Heading | Text | Bullets | Table | Figure | FigureRow | Code


# --------------------------------------------------------------------------- finding runs


@dataclass
class Run:
    kind: str
    path: Path
    options: dict
    results: dict | list | None


def run_kind(path: Path) -> str | None:
    """What kind of run folder this is, or None."""
    options = _read(path / "options.json")
    results = _read(path / "results.json")
    if isinstance(options, dict) and options.get("kind") in ("ablate", "gradcam"):
        return options["kind"]
    if isinstance(options, dict) and "protocols" in options and "fingerprint" in options:
        return "cv"
    if isinstance(results, dict) and "checkpoint" in results and "confusion_matrix" in results:
        return "evaluate"
    if isinstance(results, dict) and results.get("dataset") == "sfew" and "n_val" in results:
        return "sfew"  # the §4.6 protocol (mffcnn sfew): it also holds a model, so before "train"
    if isinstance(options, dict) and (path / "model.safetensors").exists():
        return "train"
    return None


def _checkpoint_params(path: Path) -> int | None:
    """Parameter count of a saved checkpoint, from the safetensors header alone (no tensor is read)."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            return sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())
    except Exception:  # noqa: BLE001 — a missing or foreign file: the count is left out, the report goes on
        return None


def _read(path: Path):
    try:
        return read_json(path) if path.is_file() else None
    except (OSError, ValueError):
        return None


def find_runs(paths: Sequence[str | Path]) -> list[Run]:
    """The run folders given, or found below the folders given (e.g. `runs/`), in the order given."""
    found: list[Run] = []
    for p in map(Path, paths):
        if not p.exists():
            raise MffcnnError(f"{p} does not exist")
        before = len(found)
        _collect(p, found, depth=0)
        if len(found) == before:
            raise MffcnnError(
                f"{p} is not a run folder and holds none (looked for cv, ablate, gradcam, evaluate and train runs)"
            )
    unique, seen = [], set()
    for r in found:
        if r.path.resolve() not in seen:
            seen.add(r.path.resolve())
            unique.append(r)
    return unique


def _collect(path: Path, found: list[Run], depth: int) -> None:
    if not path.is_dir():
        return
    kind = run_kind(path)
    if kind:
        found.append(load_run(path, kind))
        return  # a run's own subfolders (an ablation's per-model folds) are not runs of their own
    if depth < 3:
        for child in sorted(p for p in path.iterdir() if p.is_dir()):
            _collect(child, found, depth + 1)


def load_run(path: Path, kind: str | None = None) -> Run:
    kind = kind or run_kind(path)
    if kind is None:
        raise MffcnnError(f"{path} is not a run folder")
    options = _read(path / "options.json") or {}
    if kind == "cv":
        results = [r for p in options.get("protocols", []) if (r := _read(path / p / "results.json"))]
    else:
        results = _read(path / "results.json")
    return Run(kind, path, options, results)


# --------------------------------------------------------------------------- formatting


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _machine(m: dict | None) -> str:
    if not m:
        return "–"
    return (
        f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, Python {m.get('python', '?')}, torch {m.get('torch', '?')}"
    )


def _short(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _synthetic(r: dict) -> str:
    return " (synthetic)" if r.get("synthetic") else ""


def _paper_table(dataset: str) -> tuple[str, str, list] | None:
    key = paper.paper_key(dataset)
    return paper.TABLES.get(key) if key else None


# --------------------------------------------------------------------------- sections


def summary_blocks(runs: list[Run]) -> list[Block]:
    """Every cross-validated result in one table, then the paper's Tables 2–5 with ours added."""
    rows = []
    ours: dict[str, list[tuple[str, int, float, float]]] = {}  # dataset → (label, params, mean, std)
    for run in runs:
        if run.kind == "cv":
            for r in run.results:
                k = paper.reported(r["dataset"], r["protocol"])  # the paper ran random folds only
                protocol = PROTOCOL_TITLES.get(r["protocol"], r["protocol"])
                protocol += f", recipe `{r['recipe']}`" if r.get("recipe") else ""
                rows.append(
                    [
                        r["dataset"] + _synthetic(r),
                        protocol,
                        str(r["n_images"]),
                        str(len(r["folds"])),
                        f"**{pct(r['mean_accuracy'])}** ± {pct(r['std_accuracy'])}",
                        pct(r["mean_per_class_accuracy"]),
                        pct(paper.ACCURACY[k] / 100) if k else "–",
                        f"{r['params']:,}",
                        _duration(r.get("seconds")),
                        f"`{_short(run.path)}`",
                    ]
                )
                ours.setdefault(r["dataset"], []).append((protocol, r["params"], r["mean_accuracy"], r["std_accuracy"]))
        elif run.kind == "ablate" and run.results:
            a = run.results
            for protocol in a["protocols"]:
                full = a["results"][protocol].get("full")
                if full:
                    label = PROTOCOL_TITLES.get(protocol, protocol) + ", ablation run"
                    rows.append(
                        [
                            a["dataset"] + _synthetic(a),
                            label,
                            str(a["n_images"]),
                            str(a["folds"]),
                            f"**{pct(full['mean_accuracy'])}** ± {pct(full['std_accuracy'])}",
                            pct(full["mean_per_class_accuracy"]),
                            pct(paper.ACCURACY[k] / 100) if (k := paper.reported(a["dataset"], protocol)) else "–",
                            f"{full['params']:,}",
                            _duration(full.get("seconds")),
                            f"`{_short(run.path)}`",
                        ]
                    )
                    ours.setdefault(a["dataset"], []).append(
                        (label, full["params"], full["mean_accuracy"], full["std_accuracy"])
                    )
        elif run.kind == "sfew" and run.results:
            r = run.results
            params = _checkpoint_params(run.path / "model.safetensors")
            rows.append(
                [
                    "sfew",
                    "pretrain, fine-tune on Train, test on Val",
                    str(r["n_val"]),
                    "–",
                    f"**{pct(r['accuracy'])}**",
                    pct(r["mean_per_class_accuracy"]),
                    pct(r["paper"]["accuracy"]) if r.get("paper") else "–",
                    f"{params:,}" if params else "–",
                    _duration((r.get("pretrain_seconds") or 0) + (r.get("finetune_seconds") or 0)),
                    f"`{_short(run.path)}`",
                ]
            )
            if params:
                ours.setdefault("sfew", []).append(("Val", params, r["accuracy"], None))
        elif run.kind == "evaluate" and run.results:
            r = run.results
            rows.append(
                [
                    r["dataset"] + _synthetic(r),
                    f"evaluate {Path(r['checkpoint']).name}",
                    str(r["n_images"]),
                    "–",
                    f"**{pct(r['accuracy'])}**",
                    "–",
                    "–",
                    "–",
                    "–",
                    f"`{_short(run.path)}`",
                ]
            )
    blocks: list[Block] = [Heading("Results beside the paper", 2, "summary")]
    if not rows:
        return blocks + [Text("No cross-validation, ablation or evaluation results among these runs.")]
    blocks.append(
        Table(
            [
                "dataset",
                "protocol",
                "images",
                "folds",
                "ours: mean accuracy % ± std over folds",
                "mean of per-class %",
                "paper %",
                "parameters",
                "training time",
                "run",
            ],
            rows,
            caption="Mean accuracy over folds (the paper's measure). The paper reports random folds only; "
            "subject-independent folds keep every person on one side of each split.",
        )
    )
    for dataset, entries in ours.items():
        table = _paper_table(dataset)
        if not table:
            continue
        number, name, models = table
        body = [[m if m != "MFF-CNN" else "MFF-CNN (paper)", params, f"{acc:.2f}"] for m, params, acc in models]
        body += [
            [
                f"MFF-CNN, ours ({label})",
                f"{params / 1e6:.2f}M",
                pct(mean) + (f" ± {pct(std)}" if std is not None else ""),
            ]
            for label, params, mean, std in entries
        ]
        blocks.append(
            Table(
                ["model", "parameters", "accuracy (%)"],
                body,
                classes=["paper"] * len(models) + ["ours"] * len(entries),
                caption=f"The paper's {number} ({name}) with our runs on {dataset} added.",
            )
        )
    return blocks


FIGURE_NUMBER = {"ckplus": "Fig. 4", "ckplus48": "Fig. 4", "jaffe": "Fig. 5", "oulu": "Fig. 6", "sfew": "Fig. 7"}


def cv_blocks(run: Run) -> list[Block]:
    """A cv run: its protocols side by side (per class, per fold, confusion matrices), beside the paper."""
    o = run.options
    blocks: list[Block] = [Heading(f"Cross-validation: {o.get('dataset')} — `{_short(run.path)}`", 2)]
    if not run.results:
        blocks.append(Text("No protocol has finished yet (no results.json); resume it with `mffcnn cv --resume`."))
    done = {r["protocol"] for r in run.results}
    for protocol in o.get("protocols", []):
        if protocol not in done:
            n = len(list((run.path / protocol / "folds").glob("fold_*.json")))
            blocks.append(
                Text(
                    f"**{protocol}**: incomplete, {n} of {o.get('folds')} folds done; resume it with "
                    f"`mffcnn cv --resume {run.path}`."
                )
            )
    if run.results:
        blocks += protocols_blocks(run.results, run.path)
    blocks += provenance_blocks(o)
    return blocks


def protocols_blocks(results: list[dict], folder: Path) -> list[Block]:
    first = results[0]
    key = paper.paper_key(first["dataset"])
    fig = FIGURE_NUMBER.get(key or "")
    ref = paper.PER_CLASS.get(key, {}) if key else {}
    blocks: list[Block] = [
        Bullets(
            [
                f"**{PROTOCOL_TITLES.get(r['protocol'], r['protocol'])}: {pct(r['mean_accuracy'])} % ± {pct(r['std_accuracy'])}** "
                f"over {len(r['folds'])} folds (pooled {pct(r['pooled_accuracy'])} %)"
                + (f"; paper {paper.ACCURACY[k]:.2f} %" if (k := paper.reported(r["dataset"], r["protocol"])) else "")
                + f". {r['n_images']} images{_synthetic(r)}, {r['n_subjects']} subjects, {r['params']:,} parameters, recipe "
                f"`{r.get('recipe', '?')}`, {r.get('epochs', '?')} epochs, seed {r.get('seed', '?')}; training and testing "
                f"took {_duration(r.get('seconds'))}."
                for r in results
            ]
        )
    ]
    header = ["class", *[f"ours, {r['protocol']} folds (%)" for r in results]] + ([f"paper, {fig} (%)"] if ref else [])
    rows = [
        [c, *[pct(r["per_class_accuracy"].get(c)) for r in results]]
        + ([f"{ref[c]:.2f}" if c in ref else "–"] if ref else [])
        for c in first["class_names"]
    ]
    rows.append(
        ["*mean of classes*", *[pct(r["mean_per_class_accuracy"]) for r in results]]
        + ([f"{sum(ref.values()) / len(ref):.2f}"] if ref else [])
    )
    blocks.append(
        Table(
            header,
            rows,
            caption="Per-class accuracy: the diagonal of the row-normalised confusion matrix, pooled over folds.",
        )
    )
    n = max(len(r["folds"]) for r in results)
    blocks.append(
        Table(
            ["fold", *map(str, range(1, n + 1)), "mean ± std"],
            [
                [
                    f"{r['protocol']} (%)",
                    *[pct(f["accuracy"], 1) for f in r["folds"]],
                    f"{pct(r['mean_accuracy'])} ± {pct(r['std_accuracy'])}",
                ]
                for r in results
            ],
            caption="Accuracy of each fold.",
        )
    )
    figures = [
        Figure(
            folder / r["protocol"] / "confusion.png",
            f"{r['protocol']} folds (rows: truth, % of each row)" + (f"; compare the paper's {fig}" if fig else ""),
            small=True,
        )
        for r in results
        if (folder / r["protocol"] / "confusion.png").exists()
    ]
    if figures:
        blocks.append(FigureRow(figures))
    return blocks


def ablate_blocks(run: Run) -> list[Block]:
    a = run.results
    blocks: list[Block] = [
        Heading(f"Ablation (Table 6): {run.options.get('dataset')} — `{_short(run.path)}`", 2, "ablation")
    ]
    if not a:
        n = len(list(run.path.glob("*/*/folds/fold_*.json")))
        return blocks + [Text(f"Not finished yet: {n} folds done; resume it with `mffcnn ablate --resume {run.path}`.")]
    blocks.append(
        Text(
            f"{a['n_images']} images{_synthetic(a)}, {a['folds']} folds, recipe `{a['recipe']}`, {a['epochs']} epochs, "
            f"seed {a['seed']}. The four models are trained and tested on the same folds with the same seeds, so every "
            "comparison with the full model is paired fold by fold. The paper's rows are its Table 6 (Oulu-CASIA, random "
            "folds)."
        )
    )
    if (run.path / "ablation.png").exists():  # the overview first, the tables after it
        blocks.append(
            Figure(
                run.path / "ablation.png",
                "Left: mean accuracy ± std over folds; black diamonds: the "
                "paper's Table 6. Right: each fold's difference to the full "
                "model (paired).",
            )
        )
    for protocol in a["protocols"]:
        header, body = table_rows(a, protocol)
        blocks += [
            Heading(PROTOCOL_TITLES.get(protocol, protocol).capitalize(), 3),
            Table(
                header,
                body,
                classes=["ours", "paper"] * (len(body) // 2),
                caption="Per-class accuracy (pooled over folds) and mean accuracy ± std over folds.",
            ),
        ]
        if a["comparisons"].get(protocol):
            header, body = comparison_rows(a, protocol)
            blocks += [
                Table(
                    header,
                    body,
                    caption=f"Each component against the full model over the {a['folds']} "
                    "paired folds (Δ = ablated − full; fold spread σ = the larger of the two models' std "
                    f"over folds; verdict: helps / hurts when the paired t-test gives p < {a['alpha']}, else no clear "
                    "effect).",
                ),
                Bullets(verdicts(a, protocol)),
            ]
        time_rows = [[k, f"{v['params']:,}", _duration(v.get("seconds"))] for k, v in a["results"][protocol].items()]
        blocks.append(Table(["model", "parameters", "training and testing time"], time_rows))
    blocks += provenance_blocks(run.options)
    return blocks


def gradcam_blocks(run: Run) -> list[Block]:
    r, o = run.results or {}, run.options
    blocks: list[Block] = [Heading(f"Grad-CAM (Fig. 8) — `{_short(run.path)}`", 2)]
    source = f"{r.get('dataset')}{_synthetic(r)}" if r.get("dataset") else f"{len(r.get('samples', []))} image(s)"
    blocks.append(
        Text(
            f"Checkpoint `{o.get('checkpoint')}` on {source}; target score `{r.get('score')}`, style `{r.get('style')}`. "
            "Columns: the face; Grad-CAM of the Image Branch after its 2nd max-pool (mid-level) and 3rd (high-level); of "
            "the Patch Branch's maps after its 2nd max-pool, before selection, and of the vectors kept after selection "
            "(per-patch maps placed back on the face, averaged where patches overlap); and each feature vector's weight α "
            "(black: discarded by selection — no gradient reaches them, their weight is exactly 0)."
        )
    )
    for name in r.get("figures", []):
        blocks.append(Figure(run.path / name, "Grad-CAM of the four feature maps of Fig. 8; warm = high attention."))
    rows = [
        [
            s["source"],
            s.get("label") or "–",
            s["predicted"],
            s["target"],
            f"{s['kept_vectors']}/{s['discarded_vectors']}",
            f"{s['max_abs_weight_discarded']:g}",
            f"{s['max_abs_weight_kept']:.3g}",
        ]
        for s in r.get("samples", [])
    ]
    if rows:
        blocks.append(
            Table(
                [
                    "face",
                    "true",
                    "predicted",
                    "target",
                    "kept / discarded vectors",
                    "max |α| discarded",
                    "max |α| kept",
                ],
                rows,
            )
        )
    patches = r.get("patch_figures", [])
    if patches:
        blocks.append(
            Figure(
                run.path / patches[0],
                "Fig. 8(c): the 16 patches with their own Grad-CAM before and "
                "after selection ('k/32': vectors of the patch that were kept).",
            )
        )
    blocks += provenance_blocks(o)
    return blocks


def sfew_blocks(run: Run) -> list[Block]:
    """The SFEW 2.0 protocol (§4.6): per-class accuracy on Val beside the paper's Fig. 7, and the confusion."""
    r = run.results
    pre = r.get("pretraining")
    source = (
        f"pretrained {pre['epochs']} epochs on {' ∪ '.join(d['dataset'] for d in pre['datasets'])} "
        f"({pre['n_images']} images)"
        if pre
        else "no pretraining"
    )
    classes = r["class_names"]
    p = r.get("paper") or {}
    blocks: list[Block] = [
        Heading(f"SFEW 2.0 (§4.6): {source}, then {r['epochs']} epochs on Train — `{_short(run.path)}`", 2),
        Text(
            f"Tested on Val ({r['n_val']} faces, {r.get('val_dropped', 0)} unusable dropped): **accuracy "
            f"{pct(r['accuracy'])} %** (paper {pct(p['accuracy']) if p else '–'} %), mean of per-class "
            f"{pct(r['mean_per_class_accuracy'])} %. Recipe `{r['recipe']['name']}`, seed {r['seed']}."
        ),
        Table(
            ["", *classes, "all"],
            [
                ["ours", *(pct(r["per_class_accuracy"].get(c), 1) for c in classes), pct(r["accuracy"])],
                *(
                    [["paper (Fig. 7)", *(pct(p["per_class_accuracy"].get(c), 1) for c in classes), pct(p["accuracy"])]]
                    if p
                    else []
                ),
            ],
            classes=["ours", "paper"] if p else ["ours"],
            caption="Accuracy per class on SFEW 2.0 Val (%).",
        ),
    ]
    if (run.path / "confusion.png").exists():
        blocks.append(
            Figure(
                run.path / "confusion.png",
                "Confusion matrix on Val (rows: truth, % of each row), like the paper's Fig. 7.",
                small=True,
            )
        )
    return blocks + provenance_blocks(run.options)


def evaluate_blocks(run: Run) -> list[Block]:
    r = run.results
    blocks: list[Block] = [
        Heading(f"Evaluation: {Path(r['checkpoint']).name} on {r['dataset']} — `{_short(run.path)}`", 2),
        Text(
            f"Checkpoint `{r['checkpoint']}` on {r['n_images']} images of {r['dataset']}{_synthetic(r)}: "
            f"**accuracy {pct(r['accuracy'])} %**."
        ),
        Table(["class", "accuracy (%)"], [[c, pct(a)] for c, a in r["per_class_accuracy"].items()]),
    ]
    if (run.path / "confusion.png").exists():
        blocks.append(Figure(run.path / "confusion.png", "Confusion matrix (rows: truth, % of each row).", small=True))
    return blocks


def train_blocks(run: Run) -> list[Block]:
    o = run.options
    scores = o.get("scores", {})
    return [
        Heading(f"Training: {o.get('dataset')} — `{_short(run.path)}`", 2),
        Text(
            f"{o.get('n_images')} images{' (synthetic)' if o.get('synthetic') else ''}, recipe "
            f"`{(o.get('recipe') or {}).get('name')}` (lr {(o.get('recipe') or {}).get('lr')}), {o.get('epochs')} epochs, "
            f"seed {o.get('seed')}: training "
            f"accuracy {pct(scores.get('train_accuracy'))} % in {_duration(o.get('seconds'))}. "
            f"Checkpoint `{_short(run.path / 'model.safetensors')}`."
        ),
        *provenance_blocks(o),
    ]


def provenance_blocks(options: dict) -> list[Block]:
    blocks: list[Block] = []
    if options.get("command"):
        blocks.append(Code(options["command"]))
    details = []
    if options.get("machine"):
        details.append(f"machine: {_machine(options['machine'])}")
    if options.get("mffcnn"):
        details.append(f"mffcnn {options['mffcnn']}")
    if details:
        blocks.append(Text("; ".join(details) + "."))
    return blocks


def provenance_table(runs: list[Run]) -> list[Block]:
    rows = []
    for run in runs:
        o = run.options
        m = o.get("machine") or {}
        rows.append(
            [
                run.kind,
                f"`{_short(run.path)}`",
                f"`{o.get('command', '–')}`" if o.get("command") else "–",
                m.get("cpu", "–"),
                str(m.get("cores", "–")),
                m.get("python", "–"),
                m.get("torch", "–"),
                o.get("mffcnn") or "–",
            ]
        )
    from mffcnn import __version__
    from mffcnn.runs import machine_info

    here = machine_info()
    return [
        Heading("Commands, machines and versions", 2, "provenance"),
        Table(
            ["kind", "run", "command", "CPU", "cores", "Python", "torch", "mffcnn"],
            rows,
            caption="As recorded in each run's options.json when it started (– where a run did not record it).",
        ),
        Text(
            f"This report was made by mffcnn {__version__} on {datetime.datetime.now():%Y-%m-%d %H:%M} "
            f"({_machine(here)})."
        ),
    ]


def report_blocks(runs: list[Run], title: str) -> list[Block]:
    blocks: list[Block] = [Heading(title, 1)]
    kinds = {k: sum(r.kind == k for r in runs) for k in KINDS}
    blocks.append(
        Text(
            "From "
            + ", ".join(f"{n} {k} run{'s' if n > 1 else ''}" for k, n in kinds.items() if n)
            + ": "
            + ", ".join(f"`{_short(r.path)}`" for r in runs)
            + "."
        )
    )
    if any(r.kind in ("cv", "sfew", "ablate", "evaluate") for r in runs):
        blocks += summary_blocks(runs)
    makers = {
        "cv": cv_blocks,
        "sfew": sfew_blocks,
        "ablate": ablate_blocks,
        "gradcam": gradcam_blocks,
        "evaluate": evaluate_blocks,
        "train": train_blocks,
    }
    for kind in KINDS:  # grouped by kind: results first, then ablations, then pictures
        for run in runs:
            if run.kind == kind:
                blocks += makers[kind](run)
    blocks += provenance_table(runs)
    return blocks


# --------------------------------------------------------------------------- rendering

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#1d2127;line-height:1.45}
h1{border-bottom:3px solid #3b75af;padding-bottom:.2em}h2{border-bottom:1px solid #ccd;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.88em}th,td{border:1px solid #ccd;padding:.25em .55em}
th{background:#e9eef5}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.paper td{background:#f7f3e8;color:#5a4a1a}tr.ours td{background:#fff}
caption{caption-side:bottom;text-align:left;color:#555;font-size:.9em;padding-top:.3em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #dde}figcaption{color:#555;font-size:.9em}
.row{display:flex;gap:1em;flex-wrap:wrap}figure.small{flex:1 1 45%;max-width:520px}
code,pre{background:#f2f4f7;border-radius:3px}code{padding:0 .2em}pre{padding:.6em;overflow-x:auto;white-space:pre-wrap}
nav{background:#f5f7fa;padding:.5em 1em;border-radius:4px}nav a{margin-right:1em}
"""


def _inline_html(text: str) -> str:
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![*\w])\*([^*]+)\*(?![*\w])", r"<em>\1</em>", out)


def _is_numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[*\s]*[-+–]?[\d.,]+\s*(%|M|s|min|h)?(\s*[±/]\s*[\d.,]+)*[*\s]*(/ \d+)*", cell))


def _slug(text: str, used: set[str]) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "section"
    base, n = s, 2
    while s in used:
        s, n = f"{base}-{n}", n + 1
    used.add(s)
    return s


def render_html(blocks: list[Block], title: str) -> str:
    used: set[str] = set()
    anchors = {}
    for b in blocks:
        if isinstance(b, Heading) and b.level == 2:
            anchors[id(b)] = b.anchor if b.anchor and b.anchor not in used else _slug(b.text, used)
            used.add(anchors[id(b)])
    parts = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
    ]
    nav = [
        f'<a href="#{anchors[id(b)]}">{_inline_html(b.text)}</a>'
        for b in blocks
        if isinstance(b, Heading) and b.level == 2
    ]
    for b in blocks:
        if isinstance(b, Heading):
            anchor = f' id="{anchors[id(b)]}"' if id(b) in anchors else ""
            parts.append(f"<h{b.level}{anchor}>{_inline_html(b.text)}</h{b.level}>")
            if b.level == 1 and nav:
                parts.append("<nav>" + " ".join(nav) + "</nav>")
        elif isinstance(b, Text):
            parts.append(f"<p>{_inline_html(b.text)}</p>")
        elif isinstance(b, Bullets):
            parts.append("<ul>" + "".join(f"<li>{_inline_html(x)}</li>" for x in b.items) + "</ul>")
        elif isinstance(b, Code):
            parts.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif isinstance(b, Table):
            parts.append(_table_html(b))
        elif isinstance(b, Figure):
            parts.append(_figure_html(b))
        elif isinstance(b, FigureRow):
            parts.append('<div class="row">' + "".join(_figure_html(f) for f in b.figures) + "</div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _figure_html(f: Figure) -> str:
    data = base64.b64encode(f.path.read_bytes()).decode("ascii")  # embedded: the page needs no other file
    alt = html.escape(f.caption, quote=True)
    cls = ' class="small"' if f.small else ""
    return (
        f'<figure{cls}><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{_inline_html(f.caption)}</figcaption></figure>"
    )


def _table_html(t: Table) -> str:
    numeric = t.numeric or [
        all(_is_numeric(r[i]) for r in t.rows if i < len(r) and r[i] not in ("", "–"))
        and any(r[i] not in ("", "–") for r in t.rows if i < len(r))
        for i in range(len(t.header))
    ]
    rows = []
    for k, r in enumerate(t.rows):
        cls = f' class="{t.classes[k]}"' if k < len(t.classes) and t.classes[k] else ""
        cells = "".join(f"<td{' class=num' if numeric[i] else ''}>{_inline_html(c)}</td>" for i, c in enumerate(r))
        rows.append(f"<tr{cls}>{cells}</tr>")
    caption = f"<caption>{_inline_html(t.caption)}</caption>" if t.caption else ""
    head = "".join(f"<th>{_inline_html(h)}</th>" for h in t.header)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown; images are linked relative to `base`, the folder the .md is written to."""
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Text):
            lines += [b.text, ""]
        elif isinstance(b, Bullets):
            lines += [f"- {x}" for x in b.items] + [""]
        elif isinstance(b, Code):
            lines += ["```", b.text, "```", ""]
        elif isinstance(b, Table):
            numeric = [
                all(_is_numeric(r[i]) for r in b.rows if i < len(r) and r[i] not in ("", "–"))
                for i in range(len(b.header))
            ]
            lines += [
                "| " + " | ".join(h.replace("|", "\\|") for h in b.header) + " |",
                "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
                *["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in b.rows],
                "",
            ]
            if b.caption:
                lines += [f"*{b.caption}*", ""]
        elif isinstance(b, (Figure, FigureRow)):
            for f in b.figures if isinstance(b, FigureRow) else [b]:
                rel = Path(os.path.relpath(f.path.resolve(), base.resolve())).as_posix()
                lines += [f"![{f.caption}]({rel})", "", f"*{f.caption}*", ""]
    return "\n".join(lines)


def _dataset_of(run: Run) -> str | None:
    if isinstance(run.results, dict) and run.results.get("dataset"):
        return run.results["dataset"]
    if isinstance(run.results, list) and run.results:
        return run.results[0]["dataset"]
    return run.options.get("dataset")


def build_report(
    runs: Sequence[str | Path],
    *,
    out: str | Path | None = None,
    project: str | Path = "runs",
    name: str = "exp",
    title: str | None = None,
) -> tuple[Path, Path]:
    """Write report.html (self-contained) and report.md for the given run folders; returns both paths.

    out: the folder to write to (default: a new numbered folder project/report/nameN)."""
    from mffcnn.runs import new_run_dir

    found = find_runs(runs)
    datasets = sorted(set(filter(None, map(_dataset_of, found))))
    title = title or "MFF-CNN results" + (f": {', '.join(datasets)}" if datasets else "")
    blocks = report_blocks(found, title)
    folder = Path(out) if out else new_run_dir(project, "report", name)
    folder.mkdir(parents=True, exist_ok=True)
    html_path, md_path = folder / "report.html", folder / "report.md"
    html_path.write_text(render_html(blocks, title))
    md_path.write_text(render_markdown(blocks, folder))
    return html_path, md_path
