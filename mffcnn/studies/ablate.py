"""The ablation study of Table 6 (paper §4.8): what each component of MFF-CNN is worth.

Four models, each a configuration of the same MFFCNN class (mffcnn.model.config.ABLATIONS):

* `full`: MFF-CNN as in §3;
* `no_mid_level`: "we only used high-level features to represent global features";
* `no_joint_tuning`: "we integrated the two branches with traditional feature vector concatenation";
* `no_feature_selection`: "we used complete local feature vector set to represent local features".

All four are trained and tested on the *same* folds with the *same* seeds (fold k trains with seed
seed·1000 + k in every model), under both protocols (random folds as in the paper, and
subject-independent folds). Because the folds are identical, each model's fold accuracies pair
with the full model's, and the comparison is paired: for each component we report the mean and
std of the fold-wise difference to `full`, a paired t-test and a sign test over the folds, and
whether the difference is larger than the fold-to-fold spread of the full model (its std over
folds). The paper ran this on Oulu-CASIA only, without a spread; its rows are printed beside ours.

Run folder (resumable, like `mffcnn cv`): runs/ablate/expN/
    options.json                         what was run, with the command and the machine
    <ablation>/<protocol>/folds/*.json   one file per finished fold (mffcnn.train.folds.run_cv)
    <ablation>/<protocol>/results.json   as `mffcnn cv` writes it, with confusion.png and report.md
    results.json, report.md, ablation.png   the table beside Table 6, the paired comparisons, the figure
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mffcnn import paper
from mffcnn.errors import MffcnnError
from mffcnn.model import ABLATIONS, MFFCNNConfig, ablation_config
from mffcnn.report.ablation import COMPONENTS, TITLES, ablation_markdown, plot_ablation
from mffcnn.report.metrics import summarise_folds
from mffcnn.runs import write_json
from mffcnn.studies import _run
from mffcnn.studies._run import StudyOptions
from mffcnn.train import distributed
from mffcnn.train.folds import PROTOCOLS, check_folds
from mffcnn.train.loop import resolve_device

ALPHA = 0.05  # significance level of the paired tests


def ablate(
    dataset: str,
    root: str | Path | None = None,
    *,
    ablations: list[str] | None = None,
    protocol: str = "both",
    folds: int = 10,
    dataset_options: dict | None = None,
    options: StudyOptions | None = None,
    **option_values,
) -> tuple[Path, dict]:
    """Cross-validate the Table 6 models on a dataset under the same folds and seeds.

    options, or the same names as keywords: StudyOptions. With init, every model of every fold starts from
    that checkpoint as far as its weights fit (mffcnn.train.warm_start); it must not have been trained on the
    dataset's people. Returns the run folder and the run's results (also in its results.json)."""
    from mffcnn import __version__

    options = StudyOptions.of(options, **option_values)
    ablations = list(ablations or ABLATIONS)
    unknown = [a for a in ablations if a not in ABLATIONS]
    if unknown:
        raise MffcnnError(f"unknown ablation(s) {', '.join(unknown)}; choose from {', '.join(ABLATIONS)}")
    ablations = [a for a in ABLATIONS if a in ablations]  # Table 6 order, no duplicates
    protocols = list(PROTOCOLS) if protocol == "both" else [protocol]
    if any(p not in PROTOCOLS for p in protocols):
        raise MffcnnError(f"unknown protocol {protocol!r}; choose from random, subject, both")
    if folds < 2:
        raise MffcnnError("--folds must be at least 2")
    s = _run.setup(dataset, root, dataset_options, options)
    check_folds(s.faceset, protocols, folds)
    # The recipe's dropout applies to every model alike, so they stay comparable.
    models = {a: s.model_config(ablation_config(a)) for a in ablations}
    init_reports = (
        {
            a: _run.init_report(options.init, cfg, s.faceset, tested=True, verbose=options.verbose, label=f"{a}: ")
            for a, cfg in models.items()
        }
        if options.init
        else {}
    )
    run_dir = _run.new_run(options.project, "ablate", options.name)
    recorded = {"kind": "ablate", **_run.recorded_setup(s, dataset, root, dataset_options, options, "ablate")}
    recorded |= {
        "ablations": ablations,
        "protocols": protocols,
        "folds": folds,
        "init_reports": init_reports,
        "models": {a: cfg.to_dict() for a, cfg in models.items()},
        "mffcnn": __version__,
    }
    write_json(run_dir / "options.json", recorded)
    return run_dir, _run_all(run_dir, s.faceset, recorded, verbose=options.verbose)


def resume_ablation(
    run_dir: str | Path | None = None, *, project: str | Path = "runs", verbose: bool = True
) -> tuple[Path, dict]:
    """Finish an interrupted ablation run (the latest under project/ablate when run_dir is None)."""
    run_dir, recorded = _run.find_run(run_dir, project, "ablate", "ablation run")
    if recorded.get("kind") != "ablate":
        raise MffcnnError(f"{run_dir} is not an ablation run (resume cv runs with mffcnn cv --resume)")
    faceset = _run.reload_faceset(recorded, run_dir)
    if verbose:
        print(f"resuming {run_dir}", file=sys.stderr)
    return run_dir, _run_all(run_dir, faceset, recorded, verbose=verbose)


def _run_all(run_dir: Path, faceset, recorded: dict, *, verbose: bool) -> dict:
    device = resolve_device(recorded.get("device", "auto"))
    ablations, protocols = recorded["ablations"], recorded["protocols"]
    per_run: dict[str, dict[str, dict]] = {p: {} for p in protocols}
    # Protocol-major: the paper's protocol finishes for all four models before the honest one starts,
    # so an interrupted run already has a complete random-fold table.
    for protocol in protocols:
        for i, ablation in enumerate(ablations, start=1):
            if verbose:
                print(f"[{i}/{len(ablations)}] {TITLES[ablation]} — {protocol} folds", file=sys.stderr)
            cfg = MFFCNNConfig.from_dict(recorded["models"][ablation])
            training = _run.recorded_training(recorded, cfg, device, distributed.SINGLE)
            out = run_dir / ablation / protocol
            r = _run.run_protocol(
                faceset,
                out,
                training,
                recorded,
                protocol,
                verbose=verbose,
                extra_of=lambda folds, a=ablation: {"ablation": a, **fold_spread(faceset, folds)},
            )
            per_run[protocol][ablation] = r
    results = summarise(per_run, recorded)
    write_json(run_dir / "results.json", results)
    plot_ablation(results, run_dir / "ablation.png")
    (run_dir / "report.md").write_text(ablation_markdown(results, figure="ablation.png"))
    return results


def fold_spread(faceset, folds) -> dict:
    return {"per_class_fold_std": per_class_fold_std(faceset.labels, folds, len(faceset.class_names))}


def per_class_fold_std(labels: np.ndarray, folds, num_classes: int) -> list[float | None]:
    """Std over folds of each class's accuracy (None for a class seen in fewer than 2 test folds)."""
    acc = [[] for _ in range(num_classes)]
    for f in folds:
        y = labels[f.test_index]
        pred = np.asarray(f.y_pred)
        for c in range(num_classes):
            if (y == c).any():
                acc[c].append(float((pred[y == c] == c).mean()))
    return [float(np.std(a, ddof=1)) if len(a) > 1 else None for a in acc]


def paired_comparison(full: list[float], other: list[float]) -> dict:
    """Fold-by-fold comparison of an ablation with the full model (accuracies in 0..1, same folds).

    delta = other − full per fold. Returns the mean and std (ddof=1) of delta, a paired t-test and a
    two-sided sign test over the folds, the fold spread (the larger of the two models' std over
    folds), and whether |mean delta| exceeds that spread."""
    from scipy import stats

    a, b = np.asarray(full, float), np.asarray(other, float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError("paired comparison needs the same ≥2 folds for both models")
    d = b - a
    mean, std = float(d.mean()), float(d.std(ddof=1))
    if std > 0:
        p_t = float(stats.ttest_rel(b, a).pvalue)
    else:  # every fold moved by the same amount: no spread to test against
        p_t = 1.0 if mean == 0 else 0.0
    better, worse = int((d < 0).sum()), int((d > 0).sum())  # folds where the full model is better / worse
    ties = int(d.size - better - worse)
    p_sign = float(stats.binomtest(better, better + worse, 0.5).pvalue) if better + worse else 1.0
    # "The fold-to-fold spread": the ± of each model's row in the table (std of its fold accuracies).
    # The larger of the two, so that one model landing on the same accuracy in every fold (σ = 0, common
    # with few folds) does not make any difference look large.
    full_std, other_std = summarise_folds(list(a))[1], summarise_folds(list(b))[1]
    spread = max(full_std, other_std)
    return {
        "n_folds": int(d.size),
        "fold_delta": d.tolist(),
        "mean_delta": mean,
        "std_delta": std,
        "t_test_p": p_t,
        "full_better_folds": better,
        "full_worse_folds": worse,
        "tied_folds": ties,
        "sign_test_p": p_sign,
        "full_fold_std": full_std,
        "ablated_fold_std": other_std,
        "fold_spread": spread,
        "exceeds_fold_spread": abs(mean) > spread,
        "significant": p_t < ALPHA,
        # helps / hurts only when the paired test says so; otherwise the folds cannot tell.
        "verdict": ("helps" if mean < 0 else "hurts") if p_t < ALPHA and mean != 0 else "no clear effect",
    }


def summarise(per_run: dict[str, dict[str, dict]], options: dict) -> dict:
    """The run's results.json: every model × protocol, the paired comparisons, Table 6 beside."""
    first = next(iter(next(iter(per_run.values())).values()))
    rows, comparisons = {}, {}
    for protocol, by_ablation in per_run.items():
        rows[protocol] = {
            a: {
                "params": r["params"],
                "mean_accuracy": r["mean_accuracy"],
                "std_accuracy": r["std_accuracy"],
                "mean_per_class_accuracy": r["mean_per_class_accuracy"],
                "per_class_accuracy": r["per_class_accuracy"],
                "per_class_fold_std": r["per_class_fold_std"],
                "fold_accuracies": [f["accuracy"] for f in r["folds"]],
                "seconds": r["seconds"],
                "confusion_matrix": r["confusion_matrix"],
            }
            for a, r in by_ablation.items()
        }
        if "full" in by_ablation:
            full = rows[protocol]["full"]["fold_accuracies"]
            comparisons[protocol] = {
                a: {"component": COMPONENTS[a], **paired_comparison(full, row["fold_accuracies"])}
                for a, row in rows[protocol].items()
                if a != "full"
            }
    return {
        "kind": "ablate",
        "dataset": first["dataset"],
        "synthetic": first["synthetic"],
        "class_names": first["class_names"],
        "n_images": first["n_images"],
        "n_subjects": first["n_subjects"],
        "folds": options["folds"],
        "epochs": options["epochs"],
        "seed": options["seed"],
        "recipe": options["recipe"]["name"],
        "ablations": options["ablations"],
        "protocols": options["protocols"],
        "results": rows,
        "comparisons": comparisons,
        "alpha": ALPHA,
        "paper_table6": {"dataset": "oulu", "unit": "%", "rows": paper.TABLE6},
        "command": options["command"],
        "machine": options["machine"],
        "mffcnn": options.get("mffcnn"),
    }
