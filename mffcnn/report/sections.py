"""The report's section for each kind of run: cv (with the paper's per-class numbers), ablate (Table 6), gradcam
(Fig. 8), sfew (Fig. 7), evaluate and train runs, and each run's provenance."""

from __future__ import annotations

from pathlib import Path

from mffcnn import paper
from mffcnn.report.ablation import comparison_rows, table_rows, verdicts
from mffcnn.report.collect import Run
from mffcnn.report.page import Block, Bullets, Code, Figure, FigureRow, Heading, Table, Text
from mffcnn.report.text import duration, machine_line, pct, protocol_title, short_path, synthetic_tag


def paper_table(dataset: str) -> tuple[str, str, list] | None:
    key = paper.paper_key(dataset)
    return paper.TABLES.get(key) if key else None


FIGURE_NUMBER = {"ckplus": "Fig. 4", "ckplus48": "Fig. 4", "jaffe": "Fig. 5", "oulu": "Fig. 6", "sfew": "Fig. 7"}


def cv_blocks(run: Run) -> list[Block]:
    """A cv run: its protocols side by side (per class, per fold, confusion matrices), beside the paper."""
    o = run.options
    blocks: list[Block] = [Heading(f"Cross-validation: {o.get('dataset')} — `{short_path(run.path)}`", 2)]
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
                f"**{protocol_title(r['protocol'], len(r['folds']))}: {pct(r['mean_accuracy'])} % ± {pct(r['std_accuracy'])}** "
                f"over {len(r['folds'])} folds (pooled {pct(r['pooled_accuracy'])} %)"
                + (f"; paper {paper.ACCURACY[k]:.2f} %" if (k := paper.reported(r["dataset"], r["protocol"])) else "")
                + f". {r['n_images']} images{synthetic_tag(r)}, {r['n_subjects']} subjects, {r['params']:,} parameters, recipe "
                f"`{r.get('recipe', '?')}`, {r.get('epochs', '?')} epochs, seed {r.get('seed', '?')}; training and testing "
                f"took {duration(r.get('seconds'))}."
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
        Heading(f"Ablation (Table 6): {run.options.get('dataset')} — `{short_path(run.path)}`", 2, "ablation")
    ]
    if not a:
        n = len(list(run.path.glob("*/*/folds/fold_*.json")))
        return blocks + [Text(f"Not finished yet: {n} folds done; resume it with `mffcnn ablate --resume {run.path}`.")]
    blocks.append(
        Text(
            f"{a['n_images']} images{synthetic_tag(a)}, {a['folds']} folds, recipe `{a['recipe']}`, {a['epochs']} epochs, "
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
            Heading(protocol_title(protocol, a.get("folds")).capitalize(), 3),
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
        time_rows = [[k, f"{v['params']:,}", duration(v.get("seconds"))] for k, v in a["results"][protocol].items()]
        blocks.append(Table(["model", "parameters", "training and testing time"], time_rows))
    blocks += provenance_blocks(run.options)
    return blocks


def gradcam_blocks(run: Run) -> list[Block]:
    r, o = run.results or {}, run.options
    blocks: list[Block] = [Heading(f"Grad-CAM (Fig. 8) — `{short_path(run.path)}`", 2)]
    source = f"{r.get('dataset')}{synthetic_tag(r)}" if r.get("dataset") else f"{len(r.get('samples', []))} image(s)"
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
        Heading(f"SFEW 2.0 (§4.6): {source}, then {r['epochs']} epochs on Train — `{short_path(run.path)}`", 2),
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
        Heading(f"Evaluation: {Path(r['checkpoint']).name} on {r['dataset']} — `{short_path(run.path)}`", 2),
        Text(
            f"Checkpoint `{r['checkpoint']}` on {r['n_images']} images of {r['dataset']}{synthetic_tag(r)}: "
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
        Heading(f"Training: {o.get('dataset')} — `{short_path(run.path)}`", 2),
        Text(
            f"{o.get('n_images')} images{' (synthetic)' if o.get('synthetic') else ''}, recipe "
            f"`{(o.get('recipe') or {}).get('name')}` (lr {(o.get('recipe') or {}).get('lr')}), {o.get('epochs')} epochs, "
            f"seed {o.get('seed')}: training "
            f"accuracy {pct(scores.get('train_accuracy'))} % in {duration(o.get('seconds'))}. "
            f"Checkpoint `{short_path(run.path / 'model.safetensors')}`."
        ),
        *provenance_blocks(o),
    ]


def provenance_blocks(options: dict) -> list[Block]:
    blocks: list[Block] = []
    if options.get("command"):
        blocks.append(Code(options["command"]))
    details = []
    if options.get("machine"):
        details.append(f"machine: {machine_line(options['machine'])}")
    if options.get("mffcnn"):
        details.append(f"mffcnn {options['mffcnn']}")
    if details:
        blocks.append(Text("; ".join(details) + "."))
    return blocks
