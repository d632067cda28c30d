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

import datetime
from collections.abc import Sequence
from pathlib import Path

from mffcnn import paper
from mffcnn.report.collect import Run, checkpoint_params, dataset_of, find_runs
from mffcnn.report.page import Block, Heading, Table, Text, render_html, render_markdown
from mffcnn.report.sections import (
    ablate_blocks,
    cv_blocks,
    evaluate_blocks,
    gradcam_blocks,
    paper_table,
    sfew_blocks,
    train_blocks,
)
from mffcnn.report.text import duration, machine_line, pct, protocol_title, short_path, synthetic_tag

KINDS = ("cv", "sfew", "ablate", "gradcam", "evaluate", "train")


def summary_blocks(runs: list[Run]) -> list[Block]:
    """Every cross-validated result in one table, then the paper's Tables 2–5 with ours added."""
    rows = []
    ours: dict[str, list[tuple[str, int, float, float]]] = {}  # dataset → (label, params, mean, std)
    for run in runs:
        if run.kind == "cv":
            for r in run.results:
                k = paper.reported(r["dataset"], r["protocol"])  # the paper ran random folds only
                protocol = protocol_title(r["protocol"], len(r["folds"]))
                protocol += f", recipe `{r['recipe']}`" if r.get("recipe") else ""
                rows.append(
                    [
                        r["dataset"] + synthetic_tag(r),
                        protocol,
                        str(r["n_images"]),
                        str(len(r["folds"])),
                        f"**{pct(r['mean_accuracy'])}** ± {pct(r['std_accuracy'])}",
                        pct(r["mean_per_class_accuracy"]),
                        pct(paper.ACCURACY[k] / 100) if k else "–",
                        f"{r['params']:,}",
                        duration(r.get("seconds")),
                        f"`{short_path(run.path)}`",
                    ]
                )
                ours.setdefault(r["dataset"], []).append((protocol, r["params"], r["mean_accuracy"], r["std_accuracy"]))
        elif run.kind == "ablate" and run.results:
            a = run.results
            for protocol in a["protocols"]:
                full = a["results"][protocol].get("full")
                if full:
                    label = protocol_title(protocol, a.get("folds")) + ", ablation run"
                    rows.append(
                        [
                            a["dataset"] + synthetic_tag(a),
                            label,
                            str(a["n_images"]),
                            str(a["folds"]),
                            f"**{pct(full['mean_accuracy'])}** ± {pct(full['std_accuracy'])}",
                            pct(full["mean_per_class_accuracy"]),
                            pct(paper.ACCURACY[k] / 100) if (k := paper.reported(a["dataset"], protocol)) else "–",
                            f"{full['params']:,}",
                            duration(full.get("seconds")),
                            f"`{short_path(run.path)}`",
                        ]
                    )
                    ours.setdefault(a["dataset"], []).append(
                        (label, full["params"], full["mean_accuracy"], full["std_accuracy"])
                    )
        elif run.kind == "sfew" and run.results:
            r = run.results
            params = checkpoint_params(run.path / "model.safetensors")
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
                    duration((r.get("pretrain_seconds") or 0) + (r.get("finetune_seconds") or 0)),
                    f"`{short_path(run.path)}`",
                ]
            )
            if params:
                ours.setdefault("sfew", []).append(("Val", params, r["accuracy"], None))
        elif run.kind == "evaluate" and run.results:
            r = run.results
            rows.append(
                [
                    r["dataset"] + synthetic_tag(r),
                    f"evaluate {Path(r['checkpoint']).name}",
                    str(r["n_images"]),
                    "–",
                    f"**{pct(r['accuracy'])}**",
                    "–",
                    "–",
                    "–",
                    "–",
                    f"`{short_path(run.path)}`",
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
        table = paper_table(dataset)
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


def provenance_table(runs: list[Run]) -> list[Block]:
    rows = []
    for run in runs:
        o = run.options
        m = o.get("machine") or {}
        rows.append(
            [
                run.kind,
                f"`{short_path(run.path)}`",
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
            f"({machine_line(here)})."
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
            + ", ".join(f"`{short_path(r.path)}`" for r in runs)
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
    datasets = sorted(set(filter(None, map(dataset_of, found))))
    title = title or "MFF-CNN results" + (f": {', '.join(datasets)}" if datasets else "")
    blocks = report_blocks(found, title)
    folder = Path(out) if out else new_run_dir(project, "report", name)
    folder.mkdir(parents=True, exist_ok=True)
    html_path, md_path = folder / "report.html", folder / "report.md"
    html_path.write_text(render_html(blocks, title))
    md_path.write_text(render_markdown(blocks, folder))
    return html_path, md_path
