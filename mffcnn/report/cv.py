"""results.json and report.md of a cross-validation run, with the paper's numbers beside ours."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mffcnn import paper
from mffcnn.report.figures import plot_confusion
from mffcnn.report.metrics import confusion_counts, per_class_accuracy, summarise_folds
from mffcnn.report.text import pct, protocol_title
from mffcnn.runs import write_json


def cv_results(faceset, folds, *, protocol: str, params: int, extra: dict | None = None) -> dict:
    """The machine-readable result of one protocol; accuracies are fractions in 0..1."""
    y_true = np.concatenate([faceset.labels[f.test_index] for f in folds])
    y_pred = np.concatenate([np.asarray(f.y_pred, dtype=np.int64) for f in folds])
    counts = confusion_counts(y_true, y_pred, len(faceset.class_names))
    mean, std = summarise_folds([f.accuracy for f in folds])
    per_class = per_class_accuracy(counts)
    key = paper.reported(faceset.name, protocol)  # the paper's number sits beside its own protocol only
    return {
        "dataset": faceset.name,
        "synthetic": faceset.synthetic,
        "protocol": protocol,
        "class_names": faceset.class_names,
        "n_images": len(faceset),
        "n_subjects": int(len(np.unique(faceset.subjects))),
        "class_counts": faceset.class_counts(),
        "folds": [
            {
                "fold": f.fold,
                "accuracy": f.accuracy,
                "n_test": f.n_test,
                "n_train": f.n_train,
                "seconds": round(f.seconds, 2),
            }
            for f in folds
        ],
        "mean_accuracy": mean,
        "std_accuracy": std,
        "pooled_accuracy": float((y_true == y_pred).mean()),
        "mean_per_class_accuracy": float(per_class.mean()),
        "per_class_accuracy": dict(zip(faceset.class_names, per_class.tolist())),
        "confusion_matrix": counts.tolist(),
        "params": params,
        "seconds": round(sum(f.seconds for f in folds), 2),
        "paper": {
            "accuracy": paper.ACCURACY[key] / 100,
            "per_class_accuracy": {k: v / 100 for k, v in paper.PER_CLASS.get(key, {}).items()},
        }
        if key
        else None,
        **(extra or {}),
    }


def protocol_markdown(r: dict, figure: str | None) -> str:
    tag = " **(synthetic data)**" if r["synthetic"] else ""
    p = r["paper"]
    lines = [
        f"## {r['dataset']}{tag} — {protocol_title(r['protocol'], len(r['folds']))}",
        "",
        f"{r['n_images']} images, {r['n_subjects']} subjects, {len(r['folds'])} folds, "
        f"{r['params']:,} parameters, {r['seconds']:.0f} s of training and testing.",
        "",
        f"**Mean accuracy {pct(r['mean_accuracy'])} % ± {pct(r['std_accuracy'])}** (mean ± std over folds)"
        + (f"; the paper reports {pct(p['accuracy'])} %" if p else ""),
        "",
        "| class | ours (%) | paper (%) |",
        "|---|---:|---:|",
    ]
    for c, a in r["per_class_accuracy"].items():
        ref = p["per_class_accuracy"].get(c) if p else None
        lines.append(f"| {c} | {pct(a)} | {pct(ref)} |")
    lines += [
        f"| *mean of classes* | {pct(r['mean_per_class_accuracy'])} | |",
        "",
        "| fold | accuracy (%) | test images |",
        "|---:|---:|---:|",
        *[f"| {f['fold']} | {pct(f['accuracy'])} | {f['n_test']} |" for f in r["folds"]],
        "",
    ]
    if figure:
        lines += [f"![confusion matrix]({figure})", ""]
    return "\n".join(lines)


def write_protocol_report(out_dir: Path, results: dict) -> None:
    """results.json, confusion.png and report.md in out_dir."""
    title = (
        f"{results['dataset']}{' (synthetic)' if results['synthetic'] else ''}, {results['protocol']} folds: "
        f"{pct(results['mean_accuracy'])} %"
    )
    plot_confusion(
        np.asarray(results["confusion_matrix"]), results["class_names"], title=title, path=out_dir / "confusion.png"
    )
    write_json(out_dir / "results.json", results)
    (out_dir / "report.md").write_text(protocol_markdown(results, "confusion.png"))


def write_run_report(run_dir: Path, all_results: list[dict], options: dict) -> Path:
    """The run's report.md: every protocol side by side, then each in full."""
    first = all_results[0]
    lines = [f"# mffcnn cv: {first['dataset']}{' (synthetic data)' if first['synthetic'] else ''}", ""]
    if first["synthetic"]:
        lines += ["These numbers are on the **synthetic** faces generated in code, not on a real dataset.", ""]
    lines += [
        "| protocol | mean accuracy (%) | std | paper (%) |",
        "|---|---:|---:|---:|",
        *[
            f"| {r['protocol']} | {pct(r['mean_accuracy'])} | {pct(r['std_accuracy'])} | "
            f"{pct(r['paper']['accuracy']) if r['paper'] else '–'} |"
            for r in all_results
        ],
        "",
        f"Command: `{options['command']}`  ",
        f"Recipe: `{options['recipe']['name']}`, {options['epochs']} epochs, seed {options['seed']}.  ",
        f"Machine: {options['machine']['cpu']}, {options['machine']['cores']} cores, torch {options['machine']['torch']}.",
        "",
    ]
    for r in all_results:
        lines.append(protocol_markdown(r, f"{r['protocol']}/confusion.png"))
    path = run_dir / "report.md"
    path.write_text("\n".join(lines))
    return path
